"""train_classifier / evaluate on a tiny separable problem: learning, determinism, augmentation, device."""

from __future__ import annotations

import torch
from torch import nn

from edgexf.models.training import cosine_with_warmup, evaluate, random_shift, train_classifier


def _problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 1, 4, 4, generator=g)
    y = (x.sum(dim=(1, 2, 3)) > 0).long()
    return x, y


def _model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


def _train(seed, **kwargs):
    torch.manual_seed(seed)
    model = _model()
    x, y = _problem()
    hist = train_classifier(
        model, x, y, epochs=5, lr=0.05, batch_size=32, weight_decay=0.0, seed=seed, progress=False, **kwargs
    )
    return model, hist


def test_learns_and_evaluates():
    model, hist = _train(0, label_smoothing=0.1)
    x, y = _problem()
    assert len(hist.loss) == len(hist.accuracy) == len(hist.lr) == 5
    assert hist.loss[-1] < hist.loss[0]
    assert evaluate(model, x.numpy(), y.numpy(), batch_size=64) > 0.9
    assert hist.lr[-1] < 1e-6  # cosine ends at zero
    assert not model.training


def test_same_seed_same_weights_other_seed_differs():
    shift = random_shift(1)
    a, ha = _train(3, augment=shift)
    b, hb = _train(3, augment=shift)
    c, _ = _train(4, augment=shift)
    assert ha.loss == hb.loss
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_device_cpu_is_the_default():
    a, ha = _train(5)
    b, hb = _train(5, device="cpu")
    assert ha.loss == hb.loss
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))


def test_random_shift_moves_pixels_and_keeps_shape():
    x = torch.zeros(64, 1, 5, 5)
    x[:, :, 2, 2] = 1.0
    out = random_shift(1)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    positions = {tuple(torch.nonzero(img[0])[0].tolist()) for img in out}
    assert positions <= {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)} and len(positions) > 1
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.ones(64))  # one pixel from the centre never falls off


def test_cosine_with_warmup():
    f = cosine_with_warmup(total_steps=10, warmup_steps=2)
    assert f(0) == 0.5 and f(1) == 1.0 and f(2) == 1.0
    assert abs(f(6) - 0.5) < 1e-9 and f(10) == 0.0

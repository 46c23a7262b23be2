"""C code generation. Every emitter table joins the kernel registry (kernels.KERNELS) here, in one place:
importing any codegen module imports this first, so emit() always sees all of them."""

from edgexf.codegen.kernels import register
from edgexf.codegen.kernels_fused import FUSED_KERNELS
from edgexf.codegen.kernels_math import MATH_KERNELS
from edgexf.codegen.kernels_q import Q_KERNELS
from edgexf.codegen.kernels_scan import SCAN_KERNELS
from edgexf.codegen.kernels_select import SELECT_KERNELS

register(Q_KERNELS)  # the integer ops of edgexf/ir/ops_q.py
register(FUSED_KERNELS)  # float and int8 fused ops (edgexf/ir/ops_fused.py)
register(MATH_KERNELS)  # float math for recurrent and ONNX models (edgexf/ir/ops_math.py)
register(SCAN_KERNELS)  # Mamba's scan and conv step, float and int8 (ir/ops_scan.py, ops_conv_step.py)
register(SELECT_KERNELS, any_dtype=True)  # max, maximum, pad, isnan, compare: any value dtype

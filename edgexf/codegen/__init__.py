"""C code generation. Importing the package registers every kernel table (float and integer)."""

from edgexf.codegen import kernels_fused as _kernels_fused  # noqa: F401  (registers the fused emitters)
from edgexf.codegen import kernels_math as _kernels_math  # noqa: F401  (registers the math emitters)
from edgexf.codegen import kernels_q as _kernels_q  # noqa: F401  (registers the integer emitters)
from edgexf.codegen import kernels_select as _kernels_select  # noqa: F401  (max, maximum, pad, isnan)

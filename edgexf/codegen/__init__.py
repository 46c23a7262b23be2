"""C code generation. Importing the package registers every kernel table (float and integer)."""

from edgexf.codegen import kernels_q as _kernels_q  # noqa: F401  (registers the integer emitters)

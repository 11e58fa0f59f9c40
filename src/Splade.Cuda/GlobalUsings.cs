// The fp16 type of the kernels is ILGPU's (System.Half is not a kernel type).
global using Half = ILGPU.Half;

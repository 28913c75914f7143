#!/usr/bin/env python3
"""Writes a cubin whose kernel names outweigh the file (issue 24, item 3):
SYMBOLS entry symbols (STT_FUNC, STO_CUDA_ENTRY) that all name one string of
NAME_BYTES bytes ("same"), or point at SUFFIXES different offsets into it, so
that each names a different suffix ("suffixes"). A reader that copies each
symbol's name makes SYMBOLS x NAME_BYTES bytes out of a file of about
SYMBOLS x 24 + NAME_BYTES.

  make_name_bomb.py OUT [SYMBOLS [NAME_BYTES [same|suffixes [SUFFIXES]]]]
  defaults: 20000 150000 same 1000"""
import struct
import sys

out = sys.argv[1]
symbols = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
name_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 150000
mode = sys.argv[4] if len(sys.argv) > 4 else "same"
suffixes = int(sys.argv[5]) if len(sys.argv) > 5 else 1000

shstrtab = b"\0.shstrtab\0.strtab\0.symtab\0"
strtab = b"\0_Z" + b"x" * (name_bytes - 2) + b"\0"
STT_FUNC, STB_GLOBAL, STO_CUDA_ENTRY = 2, 1, 0x10
syms = bytes(24)  # the null symbol
for i in range(symbols):
    name = 1 + (i % suffixes if mode == "suffixes" else 0)
    syms += struct.pack("<IBBHQQ", name, (STB_GLOBAL << 4) | STT_FUNC, STO_CUDA_ENTRY, 0, 0, 0)

def align(n):
    return (n + 7) & ~7

off_shstr = 64
off_str = align(off_shstr + len(shstrtab))
off_sym = align(off_str + len(strtab))
off_sh = align(off_sym + len(syms))
ident = b"\x7fELF" + bytes([2, 1, 1, 0x33, 7]) + bytes(7)  # ELF64, LE, CUDA ABI 7: arch in e_flags' low byte
# e_type ET_EXEC, e_machine 190 (EM_CUDA), e_flags sm_80; four sections, names in section 1
header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 190, 1, 0, 0, off_sh, 80, 64, 0, 0, 64, 4, 1)

def shdr(name, kind, offset, size, link=0, entsize=0):
    return struct.pack("<IIQQQQIIQQ", name, kind, 0, 0, offset, size, link, 0, 1, entsize)

sections = bytes(64)
sections += shdr(1, 3, off_shstr, len(shstrtab))
sections += shdr(11, 3, off_str, len(strtab))
sections += shdr(19, 2, off_sym, len(syms), link=2, entsize=24)
image = bytearray(off_sh + len(sections))
image[0:64] = header
image[off_shstr:off_shstr + len(shstrtab)] = shstrtab
image[off_str:off_str + len(strtab)] = strtab
image[off_sym:off_sym + len(syms)] = syms
image[off_sh:] = sections
with open(out, "wb") as f:
    f.write(image)

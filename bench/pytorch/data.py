"""The data the Go side trains on, read from the same data folder (`iagen data list`).

Only the Python standard library and torch: MNIST from its IDX files, and the Spanish corpus
es-rv1909 from its SWORD module, so that the character models have the vocabulary V the Go side
builds (lib/data/text.go: the distinct characters of the whole corpus).
"""

import gzip
import html
import os
import re
import struct
import zlib
from pathlib import Path

import torch


def data_dir(arg: str | None) -> Path:
    """The data folder as lib/data/dir.go finds it: --data-dir, else $IAGEN_DATA_DIR, else the
    user cache folder."""
    if arg:
        return Path(arg)
    if os.environ.get("IAGEN_DATA_DIR"):
        return Path(os.environ["IAGEN_DATA_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "iagen" / "data"


def mnist_train(root: Path) -> torch.Tensor:
    """The 60,000 MNIST training images as uint8 [N, 1, 28, 28] (PyTorch's NCHW layout; the Go
    side's NHWC [N, 28, 28, 1] holds the same numbers, since C = 1)."""
    raw = gzip.decompress((root / "mnist" / "train-images-idx3-ubyte.gz").read_bytes())
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 0x803:
        raise ValueError(f"MNIST images: bad IDX magic {magic:#x}")
    return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(n, 1, h, w)


# --- es-rv1909: SWORD zText → plain text (a condensed port of lib/data/sword.go) ---
#
# Each testament is an index (.bzs: 12-byte little-endian entries offset, size, uncompressed
# size) into zlib blocks of OSIS XML (.bzz). Notes are dropped with their content, block-level
# tags become newlines, every other tag is stripped, entities decoded, runs of blanks collapsed.
# The Go converter's finer spacing rules (a space owed after a note or <transChange>) add no
# character that the text lacks otherwise: the vocabulary is the Go side's exactly (85
# characters, checked against lib/data's), and the training split differs from it by a few
# hundred spaces in 3.4 million characters, which no step time can tell.

_NOTE = re.compile(r"<note\b[^>]*?(?<!/)>.*?</note>", re.S)
_BLOCK = re.compile(r"</?(?:chapter|div|title|l|lg|lb|item|list|p|head)\b[^>]*>")
_SEPARATOR = re.compile(r"</?(?:transChange|milestone)\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"[ \t\r\u00a0]+")


def _osis_to_text(xml: str) -> str:
    s = _NOTE.sub(" ", xml)
    s = _BLOCK.sub("\n", s)
    s = _SEPARATOR.sub(" ", s)
    s = html.unescape(_TAG.sub("", s))
    lines = (_BLANKS.sub(" ", line).strip() for line in s.split("\n"))
    return "".join(line + "\n" for line in lines if line)


def _sword_blocks(bzs: bytes, bzz: bytes):
    for off, size, usize in struct.iter_unpack("<III", bzs):
        if size:
            block = zlib.decompress(bzz[off:off + size])
            if len(block) != usize:
                raise ValueError("SWORD block: size differs from its index entry")
            yield block.decode("utf-8")


def corpus_ids(root: Path, name: str = "es-rv1909") -> tuple[torch.Tensor, int]:
    """The corpus's training split (the first 90% of its characters, lib/data SplitText) as
    character ids, int32 like the Go side's, and the vocabulary size V of the whole corpus."""
    d = root / name
    text = "".join(_osis_to_text(block)
                   for t in ("ot", "nt")
                   for block in _sword_blocks((d / f"{t}.bzs").read_bytes(), (d / f"{t}.bzz").read_bytes()))
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    train = text[: len(text) - len(text) // 10]
    ids = torch.tensor([index[c] for c in train], dtype=torch.int32)
    return ids, len(chars)

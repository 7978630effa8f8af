"""Small greyscale PNG files, written with the standard library's zlib: the training
page's heatmaps travel as PNG so that the page stays small and its script only swaps
pictures (the colours come from a fixed palette applied by the page's SVG filter)."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

__all__ = ["data_uri", "grey_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _paeth(left: np.ndarray, up: np.ndarray, corner: np.ndarray) -> np.ndarray:
    """The PNG Paeth predictor, for whole rows at once."""
    p = left + up - corner
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
    return np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))


def _filtered(image: np.ndarray) -> bytes:
    """Each row with the PNG filter that leaves the smallest residuals (the usual
    heuristic: least sum of absolute values as signed bytes), its type byte first."""
    x = image.astype(np.int16)
    up = np.vstack([np.zeros((1, x.shape[1]), np.int16), x[:-1]])
    left = np.hstack([np.zeros((x.shape[0], 1), np.int16), x[:, :-1]])
    corner = np.hstack([np.zeros((x.shape[0], 1), np.int16), up[:, :-1]])
    candidates = np.stack([x, x - left, x - up, x - (left + up) // 2, x - _paeth(left, up, corner)]) % 256
    cost = np.where(candidates < 128, candidates, 256 - candidates).sum(axis=2)
    best = cost.argmin(axis=0)
    rows = candidates[best, np.arange(x.shape[0])].astype(np.uint8)
    return np.hstack([best.astype(np.uint8)[:, None], rows]).tobytes()


def grey_png(image: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of ``image`` (a 2-D array of 0..255, row 0 at the top)."""
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"grey_png takes a 2-D uint8 array, not {image.dtype} of shape {image.shape}")
    height, width = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(_filtered(image), 9)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

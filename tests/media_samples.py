"""Tiny real files of every accepted kind (and a refused executable), built in memory for the tests."""

import base64
import io
import struct
import wave
import zipfile
import zlib

from docx import Document


def gen_wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def gen_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def gen_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def gen_docx() -> bytes:
    document = Document()
    document.add_paragraph("Техническое задание")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def gen_zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/{part}" ContentType="{type}"/></Types>')


def gen_xlsx(main_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml") -> bytes:
    return gen_zip({"[Content_Types].xml": CONTENT_TYPES.format(part="xl/workbook.xml", type=main_type),
                    "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/'
                                       'spreadsheetml/2006/main"><sheets/></workbook>'})


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], *, sequence: int, granule: int, flags: int) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, 0x4F505553, sequence, 0, len(lacing))
    page = header + lacing + b"".join(packets)
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def gen_ogg_opus(seconds: float = 1.5) -> bytes:
    """An Ogg Opus stream as Telegram sends voice messages, built by hand (no ffmpeg or opusenc
    on the machine): OpusHead, OpusTags, and 20 ms packets of a single TOC byte (CELT, silence)."""
    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 9) + b"AccountDesk"[:9] + struct.pack("<I", 0)
    frames = int(seconds / 0.02)
    return (_ogg_page([head], sequence=0, granule=0, flags=0x02)
            + _ogg_page([tags], sequence=1, granule=0, flags=0)
            + _ogg_page([b"\xf8"] * frames, sequence=2, granule=pre_skip + frames * 960, flags=0x04))


def gen_mp3(frames: int = 40) -> bytes:
    """Silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, 417 bytes each): about a second."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * frames


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def gen_m4a(seconds: float = 1.5) -> bytes:
    """An iPhone-style voice memo skeleton: ftyp «M4A », and a moov with one sound track of the
    given length (an AAC sample entry, no samples)."""
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000))
                + struct.pack(">IH", 0x10000, 0x100) + bytes(10) + matrix + bytes(24) + struct.pack(">I", 2))
    mdhd = _box(b"mdhd", bytes(4) + struct.pack(">IIIIHH", 0, 0, 44100, int(seconds * 44100), 0x55C4, 0))
    hdlr = _box(b"hdlr", bytes(8) + b"soun" + bytes(12) + b"SoundHandler\x00")
    mp4a = _box(b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16)
                + _box(b"free", b""))
    stbl = _box(b"stbl", _box(b"stsd", bytes(4) + struct.pack(">I", 1) + mp4a))
    trak = _box(b"trak", _box(b"mdia", mdhd + hdlr + _box(b"minf", stbl)))
    return (_box(b"ftyp", b"M4A " + struct.pack(">I", 0x200) + b"M4A isommp42") + _box(b"moov", mvhd + trak)
            + _box(b"mdat", b""))


GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")  # 1×1, transparent
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")  # 1×1, lossless
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 200

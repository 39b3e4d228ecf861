"""Opening an Office file (a zip package) without trusting what its directory declares."""

import io
import zipfile

from django.utils.translation import gettext as _

from imports.table import TableError

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small parts (styles, a short sheet) can compress very well without being a bomb.
RATIO_CHECK_MIN_BYTES = 1024 * 1024

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"


def open_zip(data: bytes, *, code: str, message: str) -> zipfile.ZipFile:
    if data.startswith(OLE_SIGNATURE):
        raise TableError(
            _("这是旧版 Office 文件或已加密的文件，请取消密码并另存为 .xlsx 或 .docx 后再导入。"),
            code="unsupported_format",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise TableError(message, code=code) from exc
    total = 0
    for info in infos:
        total += info.file_size
        # zipfile never inflates past the declared size, so the declared sizes bound the work.
        too_dense = (
            info.file_size > RATIO_CHECK_MIN_BYTES
            and info.file_size > info.compress_size * MAX_COMPRESSION_RATIO
        )
        if total > MAX_UNCOMPRESSED_BYTES or too_dense:
            raise TableError(_("文件解压后异常庞大，拒绝读取。"), code="zip_bomb")
        if info.flag_bits & 0x1:
            raise TableError(_("文件已加密，请取消密码后再导入。"), code="encrypted")
    return archive

"""Build tests/corpus/public/: real-world files nobody on this project wrote (see docs/test-corpus.md).

MANIFEST.tsv is the list (which repository, commit, path, licence and sha256 each file comes
from). The files themselves are not kept in this repository: this script puts them back.

    python -m tests.corpus.build_public                 # files from MANIFEST.tsv, from GitHub
    python -m tests.corpus.build_public --mirrors DIR   # ... from bare clones DIR/<owner>+<name>/repo
    python -m tests.corpus.build_public --choose --mirrors DIR   # choose again (rewrites MANIFEST.tsv)

--choose applies the selection rules below to the mirrors' newest commits; without it the
files are exactly those of the manifest, at the manifest's commits, checked by sha256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PUBLIC = Path(__file__).parent / "public"
MANIFEST = PUBLIC / "MANIFEST.tsv"
COLUMNS = ["path", "source_repo", "repo_path", "commit", "licence", "sha256", "size", "note"]
MAX_BYTES = 3_000_000  # no single file over this: the corpus stays small enough to run often


@dataclass(frozen=True)
class Source:
    key: str  # the folder under public/
    repo: str  # owner/name on GitHub
    licence: str  # SPDX id of the repository's licence, read from its LICENSE file
    licence_files: tuple[str, ...]  # copied beside the files


SOURCES = [
    Source("poi", "apache/poi", "Apache-2.0", ("legal/LICENSE", "legal/NOTICE")),
    Source("tika", "apache/tika", "Apache-2.0", ("LICENSE.txt", "NOTICE.txt")),
    Source("pdfjs", "mozilla/pdf.js", "Apache-2.0", ("LICENSE",)),
    Source("pdfminer", "pdfminer/pdfminer.six", "MIT", ("LICENSE",)),
    Source("pdfplumber", "jsvine/pdfplumber", "MIT", ("LICENSE.txt",)),
    Source("pypdf", "py-pdf/pypdf", "BSD-3-Clause", ("LICENSE",)),
    Source("python-docx", "python-openxml/python-docx", "MIT", ("LICENSE",)),
    # pictures for the scan reader (issue 18)
    Source("pillow", "python-pillow/Pillow", "MIT-CMU", ("LICENSE",)),
    Source("libheif", "strukturag/libheif", "LGPL-3.0-or-later", ("COPYING",)),
    Source("pillow-heif", "bigcat88/pillow_heif", "BSD-3-Clause", ("LICENSE.txt",)),
]
BY_REPO = {s.repo: s for s in SOURCES}

# One line for the files worth a word (by file name). "before issue 16" says what a file gave on
# the code of the day the corpus was built (an outcome believed wrong then, fixed by issue 16).
NOTES = {
    "blank.msg": "Outlook item with no sender: getaddresses([''])[0] (issue 16)",
    "51873.msg": "Outlook item with no sender (issue 16)",
    "keywords.msg": "Outlook item with no sender (issue 16)",
    "testMSG_StickyNote.msg": "sticky note, no sender (issue 16)",
    "msgClassStickyNote.msg": "sticky note, no sender",
    "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4735011465854976.msg": "damaged .msg: OleFileError in extract_msg (issue 16)",  # noqa: E501
    "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4848576776503296.msg": "damaged .msg (issue 16)",
    "clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg": "damaged .msg (issue 16)",
    "attachment_msg_pdf.msg": "a .msg with an Outlook item attached (embedded message)",
    "testMSG_att_msg.msg": "a .msg with an Outlook item attached (embedded message)",
    "poc-shared-strings.xlsx": "109 KB: 12,000 cells pointing at one 1 MB shared string (memory/time bomb, issue 16)",
    "poc-xmlbomb.xlsx": "entity expansion in sharedStrings.xml",
    "poc-xmlbomb-empty.xlsx": "entity expansion, empty",
    "FormulaEvalTestData_Copy.xlsx": "a formula workbook, not a form (issue 16)",
    "FormulaEvalTestData.xls": "a formula workbook, not a form (issue 16)",
    "Basic_Expense_Template_2011.xls": "an expense template, not a voucher sheet (issue 16)",
    "BOOK_in_capitals.xls": "OLE stream named BOOK: case of stream names (issue 16)",
    "WORKBOOK_in_capitals.xls": "OLE stream named WORKBOOK: case of stream names (issue 16)",
    "testEXCEL_WORKBOOK_in_capitals.xls": "OLE stream named WORKBOOK (issue 16)",
    "47950_upper.doc": "OLE stream named WORDDOCUMENT (issue 16)",
    "47950_lower.doc": "OLE stream named worddocument (issue 16)",
    "simple_upper_case.doc": "OLE stream named WORDDOCUMENT (issue 16)",
    "simple_lower_case.doc": "OLE stream named worddocument (issue 16)",
    "password.xls": "RC4/CryptoAPI password: encrypted, not corrupt (issue 16)",
    "xor-encryption-abc.xls": "XOR obfuscation password: encrypted, not corrupt (issue 16)",
    "PasswordProtected.doc": "password-protected .doc: encrypted, not corrupt (issue 16)",
    "password_password_cryptoapi.doc": "CryptoAPI .doc: encrypted, not corrupt (issue 16)",
    "password_tika_binaryrc4.doc": "RC4 .doc: encrypted, not corrupt (issue 16)",
    "testWORD_protected_passtika.doc": "RC4 .doc: encrypted (issue 16)",
    "testEXCEL_protected_passtika.xls": "password .xls: encrypted (issue 16)",
    "protected_passtika.xlsb": "password-protected .xlsb (EncryptedPackage): encrypted",
    "link-external-workbook-a.xlsx": "external workbook link (openpyxl keep_links, issue 16)",
    "link-external-workbook-b.xlsx": "external workbook link (openpyxl keep_links, issue 16)",
    "external_name.xls": "external names (openpyxl on LibreOffice's output, issue 16)",
    "testODTEmbeddedImageLink.odt": "linked image: LibreOffice must not fetch it (issue 16)",
    "testRTFEmbeddedLink.rtf": "linked object in RTF (issue 16)",
    "testODTEncrypted.odt": "password-protected .odt: encrypted",
    "testODTnotaZipFile.odt": "24 bytes, not a zip",
    "complex.mbox": "mailbox of several messages: each must be read (issue 16)",
    "testMBOX_complex.mbox": "mailbox of several messages (issue 16)",
    "empty.pdf": "an empty PDF",
    "bomb_giant.pdf": "huge page content",
    "operator_list_cycle.pdf": "a cycle in the content operators",
    "ContentStreamCycleType3insideType3.pdf": "recursive Type3 glyph procedures",
    "zero-length.docx": "0 bytes",
    "lots-of-recipients.msg": "2 MB .msg, thousands of recipients",
    "ca.kwsymphony.www_education_School_Concert_Seat_Booking_Form_2011-12.doc": "a real booking form (1.6 MB .doc)",
    "checkboxes.docx": "legacy and modern check boxes",
    "WithCheckBoxes.xls": "form-control check boxes in a sheet",
    "testRFC822_oddfrom": "odd From: header",
    "testRFC822_encrypted_zip": "an email with an encrypted zip attached",
    "testRFC822_eml": "an email attached inside an email",
    "only-zero-byte-streams.ole2": "an OLE file whose streams are all empty",
    "empty.xls": "an .xls with nothing in it",
    "testPDF_XFA_govdocs1_258578.pdf": "XFA form; WRONG since the gridless-table reader (issue 18): corrupt_file "
    "from StopIteration in pdf_columns._table_at, was unknown_form",
    "no_recipient_address.msg": "eleven 32x32 inline icons, each OCR'd as a page (issue 18)",
    "test-outlook2003.msg": "eleven 32x32 inline icons, each OCR'd as a page (issue 18)",
}

# outcomes on the code of commit 5debd3d (before issue 16's fixes) believed wrong
WRONG_TODAY = {
    "FormulaEvalTestData_Copy.xlsx": "taken for a voucher sheet (scattered one-word labels)",
    "FormulaEvalTestData.xls": "taken for a voucher sheet (scattered labels)",
    "Basic_Expense_Template_2011.xls": "taken for a voucher sheet ('Name'/'Date'/'Time' far apart)",
    "BOOK_in_capitals.xls": "unsupported_format: stream name BOOK compared case-sensitively",
    "WORKBOOK_in_capitals.xls": "unsupported_format: stream name WORKBOOK compared case-sensitively",
    "testEXCEL_WORKBOOK_in_capitals.xls": "unsupported_format: stream name case",
    "47950_upper.doc": "unsupported_format: stream name WORDDOCUMENT compared case-sensitively",
    "47950_lower.doc": "unsupported_format: stream name case",
    "simple_lower_case.doc": "unsupported_format: stream name case",
    "protected_upper_case.docx": "unsupported_format: ENCRYPTEDPACKAGE stream name case, should be encrypted",
    "password.xls": "corrupt_file, should be encrypted (RC4/CryptoAPI)",
    "xor-encryption-abc.xls": "corrupt_file, should be encrypted (XOR)",
    "PasswordProtected.doc": "corrupt_file, should be encrypted",
    "password_password_cryptoapi.doc": "corrupt_file, should be encrypted (CryptoAPI)",
    "password_tika_binaryrc4.doc": "corrupt_file, should be encrypted (RC4)",
    "testWORD_protected_passtika.doc": "corrupt_file, should be encrypted",
    "testEXCEL_protected_passtika.xls": "corrupt_file, should be encrypted",
    "testODTEncrypted.odt": "corrupt_file, should be encrypted",
    "testDdeLink.xlsx": "corrupt_file (KeyError in openpyxl: external link; keep_links=False)",
    "prefilled_f1040.pdf": "corrupt_file: zip(strict=True) over pdfplumber pages vs pdfium facts (ValueError)",
    "issue-297-example.pdf": "corrupt_file: zip(strict=True) page-count mismatch (ValueError)",
    "testPDF_no_extract_yes_accessibility_owner_empty.pdf": "corrupt_file (PdfminerException) though the sibling files open",  # noqa: E501
    "complex.mbox": "only the first message of the mailbox is read",
    "testMBOX_complex.mbox": "only the first message of the mailbox is read",
    "simple.mbox": "mailbox not recognised: unsupported_format",
    "single_mail.mbox": "mailbox not recognised: unsupported_format",
    "quoted.mbox": "mailbox not recognised: unsupported_format",
    "multiline.mbox": "mailbox not recognised: unsupported_format",
    "multiline2.mbox": "mailbox not recognised: unsupported_format",
    "blank.msg": "IndexError escapes (no sender)",
    "51873.msg": "IndexError escapes (no sender)",
    "keywords.msg": "IndexError escapes (no sender)",
    "msgClassStickyNote.msg": "IndexError escapes (no sender)",
    "testMSG_StickyNote.msg": "IndexError escapes (no sender)",
    "ASCII_CP1251_LCID1049.msg": "IndexError escapes (no sender)",
    "ASCII_UTF-8_CP1252_LCID1031.msg": "IndexError escapes (no sender)",
    "ASCII_UTF-8_CP1252_LCID1031_HTML.msg": "IndexError escapes (no sender)",
    "HTMLBodyBinary_CP1251.msg": "IndexError escapes (no sender)",
    "HTMLBodyBinary_UTF-8.msg": "IndexError escapes (no sender)",
    "clusterfuzz-testcase-minimized-POIHSMFFuzzer-4735011465854976.msg": "OleFileError escapes",
    "clusterfuzz-testcase-minimized-POIHSMFFuzzer-5336473854148608.msg": "OleFileError escapes",
    "unknown_properties.msg": "OleFileError escapes",
    "poc-shared-strings.xlsx": "runs past the guard (no time or memory limit on the xlsx reader)",
    **{
        name: "corrupt_file, should be unsupported_format (.xlsb)"
        for name in (
            "51519.xlsb",
            "62815.xlsb",
            "Simple.xlsb",
            "WithTextBox.xlsb",
            "bug66682.xlsb",
            "comments.xlsb",
            "date.xlsb",
            "hyperlink.xlsb",
            "sample.xlsb",
            "testVarious.xlsb",
            "test-columnar.xlsb",
            "testEXCEL.xlsb",
            "testEXCEL_charts.xlsb",
            "testEXCEL_diagramData.xlsb",
            "testEXCEL_various.xlsb",
        )
    },
}


# Pictures and scanned PDFs for the scan reader (issue 18), each named with what it tests. A
# picture in which no form is found is `scanned_document`; every one costs an OCR pass, so these
# are few and mostly small. (source key, path in the repository, what it tests)
IMAGE_PICKS: list[tuple[str, str, str]] = [
    # Pillow's Tests/images: damaged, hostile and odd pictures
    ("pillow", "Tests/images/truncated_jpeg.jpg", "JPEG cut off mid-scan"),
    ("pillow", "Tests/images/truncated_app14.jpg", "JPEG with a truncated APP14 (Adobe) segment"),
    ("pillow", "Tests/images/junk_jpeg_header.jpg", "junk before the JPEG's first marker"),
    ("pillow", "Tests/images/icc-after-SOF.jpg", "ICC profile after the start of frame"),
    ("pillow", "Tests/images/pil_sample_cmyk.jpg", "CMYK JPEG (Adobe)"),
    ("pillow", "Tests/images/hopper_orientation_6.jpg", "EXIF orientation 6: turned 90 degrees"),
    ("pillow", "Tests/images/exif-dpi-zerodivision.jpg", "EXIF resolution 0/0"),
    ("pillow", "Tests/images/sugarshack_bad_mpo_header.jpg", "MPO (multi-picture) JPEG with a bad header"),
    ("pillow", "Tests/images/ultrahdr.jpg", "Ultra HDR JPEG: a gain-map picture after the first"),
    ("pillow", "Tests/images/broken.png", "80-byte damaged PNG"),
    ("pillow", "Tests/images/broken_data_stream.png", "PNG whose compressed data is damaged"),
    ("pillow", "Tests/images/truncated_image.png", "PNG cut off in its image data"),
    ("pillow", "Tests/images/png_decompression_dos.png", "PNG text chunk that expands without end (zTXt bomb)"),
    ("pillow", "Tests/images/hopper_idat_after_image_end.png", "PNG with image data after the image ends"),
    ("pillow", "Tests/images/unknown_compression_method.png", "PNG declaring an unknown compression method"),
    ("pillow", "Tests/images/tRNS_null_1x1.png", "1x1 PNG with an empty transparency chunk"),
    ("pillow", "Tests/images/transparent.png", "PNG with an alpha channel: transparent must read as paper"),
    ("pillow", "Tests/images/apng/mode_16bit.png", "16-bit animated PNG: only the first frame is a page"),
    ("pillow", "Tests/images/exif_imagemagick_orientation.png", "PNG with an EXIF orientation"),
    ("pillow", "Tests/images/hopper_g4.tif", "TIFF, CCITT G4 fax"),
    ("pillow", "Tests/images/g4-multi.tiff", "multi-page G4 fax TIFF"),
    ("pillow", "Tests/images/g4_orientation_6.tif", "G4 fax TIFF with an orientation tag (90 degrees)"),
    ("pillow", "Tests/images/hopper_jpg.tif", "JPEG-in-TIFF"),
    ("pillow", "Tests/images/tiff_tiled_ycbcr_jpeg_2x2_sampling.tif", "tiled JPEG-in-TIFF, YCbCr 2x2"),
    ("pillow", "Tests/images/tiff_strip_cmyk_jpeg.tif", "CMYK JPEG-in-TIFF"),
    ("pillow", "Tests/images/old-style-jpeg-compression.tif", "old-style (6) JPEG-in-TIFF"),
    ("pillow", "Tests/images/12bit.cropped.tif", "12-bit grey TIFF"),
    ("pillow", "Tests/images/hopper_bigtiff.tif", "BigTIFF"),
    ("pillow", "Tests/images/multipage.tiff", "three-page TIFF"),
    ("pillow", "Tests/images/total-pages-zero.tif", "TIFF whose page count says 0"),
    ("pillow", "Tests/images/tiff_overflow_rows_per_strip.tif", "TIFF whose rows per strip overflow"),
    ("pillow", "Tests/images/hopper_unknown_pixel_mode.tif", "TIFF in a pixel mode Pillow does not know"),
    ("pillow", "Tests/images/crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif", "fuzzed TIFF (crashed Pillow)"),
    ("pillow", "Tests/images/crash-2020-10-test.tif", "fuzzed TIFF (crashed Pillow)"),
    ("pillow", "Tests/images/libtiff_segfault.tif", "TIFF that made libtiff segfault"),
    ("pillow", "Tests/images/oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif", "88-byte TIFF declaring a huge image"),
    ("pillow", "Tests/images/seek_too_large.tif", "16-byte TIFF whose first page is past its end"),
    ("pillow", "Tests/images/bmp/b/badrle.bmp", "BMP with damaged RLE data"),
    ("pillow", "Tests/images/bmp/b/reallybig.bmp", "BMP declaring a huge image"),
    ("pillow", "Tests/images/bmp/b/shortfile.bmp", "BMP cut short"),
    ("pillow", "Tests/images/bmp/b/pal8badindex.bmp", "BMP whose pixels point past its palette"),
    ("pillow", "Tests/images/bmp/q/rgb24jpeg.bmp", "BMP holding a JPEG"),
    ("pillow", "Tests/images/bmp/g/pal1.bmp", "1-bit BMP"),
    ("pillow", "Tests/images/hopper_orientation_6.webp", "WEBP with an EXIF orientation"),
    ("pillow", "Tests/images/iss634.webp", "animated WEBP: only the first frame is a page"),
    ("pillow", "Tests/images/avif/hopper.heif", "AVIF in a HEIF container"),
    ("pillow", "Tests/images/trailer_loop.pdf", "PDF whose trailer points back at itself"),
    # Apache Tika's test-documents: the pictures, and its OCR test images
    ("tika", "IMG_1034.heic", "an iPhone photo (HEIC, 1.5 MB)"),
    ("tika", "testHEIC_livePhoto.heic", "an iPhone live photo's still"),
    ("tika", "testHEIF.heic", "HEIF"),
    ("tika", "testAVIF.avif", "185-byte AVIF"),
    ("tika", "testOCR.jpg", "a picture of typed text"),
    ("tika", "testOCR.png", "a picture of typed text"),
    ("tika", "testRotated+10.png", "a page of typed text turned by 10 degrees (deskew)"),
    ("tika", "testTIFF.tif", "TIFF"),
    ("tika", "testTIFF_multipage.tif", "multi-page TIFF of typed text"),
    ("tika", "testWebp_Alpha_Lossy.webp", "lossy WEBP with alpha"),
    ("tika", "testBMP.bmp", "BMP"),
    ("tika", "testJXL.jxl", "JPEG XL: not a format read here"),
    ("tika", "testJPEG.jp2", "JPEG 2000: not a format read here"),
    # libheif's fuzzing corpus and test data: HEIF the way a fuzzer writes it
    ("libheif", "examples/example.heic", "a photo, HEIC with several images"),
    ("libheif", "tests/data/rainbow-451x461.heic", "HEIC of odd size"),
    ("libheif", "fuzzing/data/corpus/github_15.heic", "16-byte HEIF header only"),
    ("libheif", "fuzzing/data/corpus/clap-overflow-divide-zero.heic", "HEIF clean-aperture overflow, divide by 0"),
    ("libheif", "fuzzing/data/corpus/uaf_heif_context.h_117_1.heic", "HEIF that caused a use-after-free"),
    ("libheif", "fuzzing/data/corpus/j2k-siz-segment-undersized.heic", "JPEG 2000 in HEIF, damaged"),
    ("libheif", "fuzzing/data/corpus/uncompressed_comp_M.heic", "uncompressed monochrome HEIF"),
    ("libheif", "fuzzing/data/corpus/hevc32-mini.heif", "HEIF in the 'mini' box format"),
    # pillow-heif's test images
    ("pillow-heif", "tests/images/heif_special/200MP.heic", "a 200-megapixel HEIC in 2.4 MB: a decompression bomb"),
    ("pillow-heif", "tests/images/heif_corrupted/corrupted.heic", "damaged HEIC"),
    ("pillow-heif", "tests/images/heif_truncated/truncated.heic", "HEIC cut short"),
    ("pillow-heif", "tests/images/heif_other/invalid_id.heic", "HEIC whose primary image id is wrong"),
    ("pillow-heif", "tests/images/heif/L_10__29x100.heif", "10-bit grey HEIF"),
    # pdf.js and pypdf: PDFs whose pages are pictures (scans) in the ways PDF stores them
    ("pdfjs", "test/pdfs/ccitt_EndOfBlock_false.pdf", "CCITT fax image page"),
    ("pdfjs", "test/pdfs/jbig2_file_header.pdf", "JBIG2 image page"),
    ("pdfjs", "test/pdfs/bitmap-mmr.pdf", "JBIG2 MMR page"),
    ("pdfjs", "test/pdfs/image-rotated-black-white-ratio.pdf", "rotated image"),
    ("pdfjs", "test/pdfs/cmykjpeg.pdf", "CMYK JPEG (DCT) page"),
    ("pdfjs", "test/pdfs/large_jpeg_downscale.pdf", "a large JPEG page"),
    ("pdfjs", "test/pdfs/bug_jpx.pdf", "JPEG 2000 (JPX) image page"),
    ("pypdf", "resources/jpeg.pdf", "a JPEG page"),
    ("pypdf", "resources/imagemagick-images.pdf", "ImageMagick's image pages"),
]
NOTES.update({_path.rsplit("/", 1)[-1]: _note for _key, _path, _note in IMAGE_PICKS})


def note_for(name: str) -> str:
    note, wrong = NOTES.get(name, ""), WRONG_TODAY.get(name)
    return "; ".join(part for part in (note, wrong and f"before issue 16: {wrong}") if part)


# --- choosing (only with --choose) -------------------------------------------------------

EXTENSIONS = re.compile(r"\.(docx|doc|docm|dotx|xlsx|xls|xlsm|xlsb|pdf|odt|ods|rtf|msg|eml|mbox|txt|jpg|ole2)$", re.I)
# known-bad and telling cases: always taken (besides a seeded sample of the ordinary ones)
POI_TELLING = re.compile(
    r"clusterfuzz|crash-|[Ff]uzz|poc-|password|Password|protect|passtika|xor-encryption|_in_capitals|_lower|_upper"
    r"|_normal\.doc|capitalized|Word6|Word95|word95err|empty|zero-length|truncated|corrupt|Malformed"
    r"|noSharedStringTable|ExternalEntity|xxe|link-external|external_name|checkboxes|CheckBoxes"
    r"|FormulaEvalTestData|Basic_Expense_Template|many-merges|Form%20|Form_|form_f|testEXCEL_95|SampleSS\."
    r"|Employee|budget|xlsb$",
    re.I,
)
POI_NEAR_DUPLICATES = re.compile(
    r"documentProtection_(?!forms)|workbookProtection(?!_workbook_structure)|sheetProtection_not|Word6_sections"
    r"|45538_form_Header|45540_form_Header|MatrixFormulaEvalTestData\.xls$|SampleSS\.strict"
)
TIKA_TELLING = re.compile(
    r"protect|passtika|casing|truncated|Encrypted|_in_capitals|WORD6|EXCEL_95|Exception|password|notaZip"
    r"|WordPerfect|NullHeader|recursive_embedded|Macro|macro|RTFCorrupt|RTFInvalid|RTFEmbedded|ExternalRefs"
    r"|DdeLink|DataConnections|Subdocument|AltChunk"
)
TIKA_PDFS = re.compile(
    r"^testPDF_(protected|no_extract|acroform3|XFA|malformedXFA|bad_page|incremental|sigflags|jsAction)"
)
PDFJS_TELLING = re.compile(
    r"fuzzed|REDHAT|-bad|bad-|Cycle|^empty|protected|encrypted|Pages-tree|null_in|xref_command_missing|bomb"
    r"|annotation-(text|choice|button)-widget|annotation-tx\.|fields_order|form_two|pdfjs_form|acroform|textfields"
    r"|checkbox_no|f1040|xfa_|recursive|secHandler|scan-bad|tracemonkey\.pdf|operator_list_cycle"
    r"|boundingBox_invalid|multiple-filters-length-zero"
)
PDFMINER = re.compile(
    r"aes-128\.pdf|aes-256-r6|rc4-40|encrypted|evil|corrupted|AcroForm_TEST\.pdf|f1040|simple1"
    r"|simple3|issue-00369|jo\.pdf|base\.pdf"
)
PDFPLUMBER = re.compile(
    r"empty|password|malformed|pdffill|annotations|senate|issue-297|issue-1054|issue-987"
    r"|issue-140|scotus|nics-background-checks-2015-11-rotated|extra-attrs|issue-33-lorem"
)
PYPDF = re.compile(
    r"r[2-6]-user-password|r6-both|r4-aes|encrypted-file|crazyones-encrypted|form\.pdf|FormTestFromOo"
    r"|form_evince|SF424|bytes\.pdf|toy|issue-297|crazyones\.pdf|lzw|CCITT|libreoffice-form"
)


def _git(git_dir: Path, *args: str, binary: bool = False):
    out = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, check=True)
    return out.stdout if binary else out.stdout.decode()


def _listing(git_dir: Path, under: str) -> list[tuple[str, int]]:
    """(path, size) of the regular files under a folder at HEAD (links and absent large files left out)."""
    rows = []
    for line in _git(git_dir, "ls-tree", "-r", "-l", "HEAD", under).splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, _sha, size = meta.split()
        if kind == "blob" and size.isdigit() and mode != "120000" and int(size) <= MAX_BYTES:
            rows.append((path, int(size)))
    return rows


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _sample(paths: list[str], k: int, seed: str) -> list[str]:
    paths = sorted(paths)
    random.Random(seed).shuffle(paths)
    return sorted(paths[:k])


def choose(mirrors: Path) -> list[tuple[Source, str]]:
    """The selection rules: every .msg of POI, the telling cases of each source, a seeded sample of the rest."""
    chosen: list[tuple[Source, str]] = []

    def take(key: str, paths: list[str]) -> None:
        source = next(s for s in SOURCES if s.key == key)
        chosen.extend((source, p) for p in paths)

    git = {s.key: mirrors / s.repo.replace("/", "+") / "repo" for s in SOURCES}
    take("poi", [p for p, _ in _listing(git["poi"], "test-data/hsmf") if p.endswith(".msg")])
    for under, quota in (("test-data/document", 12), ("test-data/spreadsheet", 16)):
        rows = [p for p, _ in _listing(git["poi"], under) if EXTENSIONS.search(p)]
        telling = [p for p in rows if POI_TELLING.search(_name(p)) and not POI_NEAR_DUPLICATES.search(p)]
        ordinary = [p for p in rows if p not in telling and not p.endswith((".txt", ".jpg"))]
        take("poi", telling + _sample(ordinary, quota, under))
    take(
        "poi",
        ["test-data/document/SampleDoc.txt", "test-data/document/nature1.jpg", "test-data/document/abstract1.jpg"],
    )
    take("poi", [p for p, _ in _listing(git["poi"], "test-data/poifs") if EXTENSIONS.search(p)])

    tika_rows, seen = [], set()
    for path, _ in _listing(git["tika"], "tika-parsers") + _listing(git["tika"], "tika-server"):
        if "/test-documents/" in path and _name(path) not in seen:  # the same file in several modules: once
            seen.add(_name(path))
            tika_rows.append(path)

    def tika(pattern: str, flags=re.I) -> list[str]:
        return [p for p in tika_rows if re.search(pattern, _name(p), flags) and EXTENSIONS.search(p)]

    take("tika", tika(r"\.(msg|mbox|eml)$") + [p for p in tika_rows if "mail-module" in p and not p.endswith(".txt")])
    take("tika", tika(r"\.(odt|ods|xlsb)$") + tika(TIKA_TELLING.pattern, 0) + tika(TIKA_PDFS.pattern))
    for ext, k in (("rtf", 8), ("docx", 8), ("doc", 6), ("xlsx", 6), ("xls", 6), ("pdf", 3), ("txt", 3), ("jpg", 3)):
        take("tika", _sample(tika(rf"\.{ext}$"), k, ext))

    pdfjs = [p for p, _ in _listing(git["pdfjs"], "test/pdfs") if p.endswith(".pdf")]
    telling = [p for p in pdfjs if PDFJS_TELLING.search(_name(p))]
    take("pdfjs", telling + _sample([p for p in pdfjs if p not in telling], 8, "pdfjs"))
    take("pdfminer", [p for p, _ in _listing(git["pdfminer"], "samples") if p.endswith(".pdf") and PDFMINER.search(p)])
    take(
        "pdfplumber",
        [p for p, _ in _listing(git["pdfplumber"], "tests/pdfs") if p.endswith(".pdf") and PDFPLUMBER.search(p)],
    )
    take("pypdf", [p for p, _ in _listing(git["pypdf"], "resources") if p.endswith(".pdf") and PYPDF.search(p)])
    take(
        "python-docx",
        [p for p, _ in _listing(git["python-docx"], "tests/test_files") if re.search(r"\.(docx|jpg)$", p)],
    )
    by_tika_name = {_name(p): p for p in reversed(tika_rows)}  # the first of a name, as above
    for key, path, _note in IMAGE_PICKS:
        take(key, [by_tika_name[path]] if key == "tika" else [path])
    unique, seen_pairs = [], set()
    for source, path in chosen:
        if (source.key, path) not in seen_pairs:
            seen_pairs.add((source.key, path))
            unique.append((source, path))
    return unique


def corpus_path(source: Source, repo_path: str) -> str:
    """Where a file goes under public/: POI keeps its test-data folder (names repeat across them)."""
    if source.key == "poi":
        return f"poi/{repo_path.split('/')[1]}/{_name(repo_path)}"
    return f"{source.key}/{_name(repo_path)}"


# --- building ----------------------------------------------------------------------------


def read_manifest() -> list[dict[str, str]]:
    with MANIFEST.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def write_manifest(rows: list[dict[str, str]]) -> None:
    with MANIFEST.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["path"]))


def _git_dir_for(repo: str, commit: str, mirrors: Path | None, scratch: Path) -> Path:
    """A git directory holding `commit` of `repo`: the mirror, or a one-commit shallow fetch from GitHub."""
    if mirrors is not None:
        return mirrors / repo.replace("/", "+") / "repo"
    git_dir = scratch / repo.replace("/", "+")
    if not git_dir.exists():
        subprocess.run(["git", "init", "--bare", "-q", str(git_dir)], check=True)
        subprocess.run(
            ["git", "--git-dir", str(git_dir), "fetch", "-q", "--depth", "1", f"https://github.com/{repo}.git", commit],
            check=True,
        )
    return git_dir


def build(mirrors: Path | None, rechoose: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="coforms-public-corpus-") as scratch:
        if rechoose:
            if mirrors is None:
                sys.exit("--choose needs --mirrors")
            commits = {
                s.repo: _git(_git_dir_for(s.repo, "", mirrors, Path(scratch)), "rev-parse", "HEAD").strip()
                for s in SOURCES
            }
            rows = [
                {
                    "path": corpus_path(s, p),
                    "source_repo": s.repo,
                    "repo_path": p,
                    "commit": commits[s.repo],
                    "licence": s.licence,
                    "sha256": "",
                    "size": "",
                    "note": note_for(_name(p)),
                }
                for s, p in choose(mirrors)
            ]
        else:
            rows = read_manifest()
            for row in rows:  # the notes are kept here, in NOTES and WRONG_TODAY
                row["note"] = note_for(_name(row["repo_path"]))
        for row in rows:
            git_dir = _git_dir_for(row["source_repo"], row["commit"], mirrors, Path(scratch))
            data = _git(git_dir, "show", f"{row['commit']}:{row['repo_path']}", binary=True)
            digest = hashlib.sha256(data).hexdigest()
            if row["sha256"] and digest != row["sha256"]:
                sys.exit(f"{row['path']}: sha256 {digest} is not the manifest's {row['sha256']}")
            row["sha256"], row["size"] = digest, str(len(data))
            target = PUBLIC / row["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for repo, commit in sorted({(r["source_repo"], r["commit"]) for r in rows}):
            source = BY_REPO[repo]
            git_dir = _git_dir_for(repo, commit, mirrors, Path(scratch))
            for licence_file in source.licence_files:
                (PUBLIC / source.key / _name(licence_file)).write_bytes(
                    _git(git_dir, "show", f"{commit}:{licence_file}", binary=True)
                )
        write_manifest(rows)
    print(f"{len(rows)} files, {sum(int(r['size']) for r in rows) / 1e6:.1f} MB in {PUBLIC}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, help="folder of bare clones named <owner>+<name>/repo")
    parser.add_argument("--choose", action="store_true", help="apply the selection rules again")
    args = parser.parse_args()
    build(args.mirrors, args.choose)


if __name__ == "__main__":
    main()

"""Fixed vocabularies of the generated inbox: headers, statuses, procedures, names.

Everything a generated row can contain comes from here, so a test (or a
reviewer) can see at a glance that the personal data is synthetic and that
every controlled value is one of the contract's (docs/sources.md): those are read
from the one source of the vocabularies, the dbt seed (motcua.vocabularies).
"""

from __future__ import annotations

from dataclasses import dataclass

from motcua import vocabularies as vocab

# --- One-stop dossier export (docs/sources.md §1), in the contract's order -----------------
ONESTOP_HEADERS: tuple[str, ...] = (
    "Mã hồ sơ",
    "Mã đơn vị",
    "Tên đơn vị",
    "Mã thủ tục",
    "Tên thủ tục",
    "Lĩnh vực",
    "Kênh nộp",
    "Nơi tiếp nhận",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày có kết quả",
    "Ngày trả kết quả",
    "Trạng thái",
    "Ngày xin lỗi",
    "Ngày hẹn trả lại",
    "Họ tên người nộp",
    "Địa chỉ",
    "Số điện thoại",
    "Email",
    "Cập nhật lúc",
)
# Column positions, named once so row builders and checkers agree.
(
    C_CODE,
    C_UNIT,
    C_UNIT_NAME,
    C_PROC_CODE,
    C_PROC_NAME,
    C_SECTOR,
    C_CHANNEL,
    C_PLACE,
    C_RECEIVED,
    C_DUE,
    C_RESULT,
    C_RETURNED,
    C_STATUS,
    C_APOLOGY,
    C_APOLOGY_DUE,
    C_NAME,
    C_ADDRESS,
    C_PHONE,
    C_EMAIL,
    C_UPDATED,
) = range(len(ONESTOP_HEADERS))

# --- Survey export (docs/sources.md §2) ------------------------------------------------------
ELEMENTS: tuple[str, ...] = (
    "Tiếp cận dịch vụ",
    "Thủ tục hành chính",
    "Công chức",
    "Kết quả",
    "Góp ý phản ánh",
)
ELEMENT_KEYS: tuple[str, ...] = ("access", "procedure", "staff", "result", "feedback")
SURVEY_HEADERS: tuple[str, ...] = (
    "Mã phiếu",
    "Năm",
    "Mã đơn vị",
    "Cơ quan",
    "Ngày khảo sát",
    *ELEMENTS,
    "Mã hồ sơ",
    "Ý kiến",
)
S_ID, S_YEAR, S_UNIT, S_AGENCY, S_DATE = range(5)
S_FIRST_ELEMENT = 5
S_DOSSIER, S_COMMENT = 10, 11

AGENCIES: tuple[str, ...] = vocab.values("agency")
AGENCY_UBND = vocab.value("agency", "people_committee")  # the one the town reports
# file-name slugs of the generator's own (not part of the vocabulary)
AGENCY_SLUGS: dict[str, str] = dict(zip(AGENCIES, ("ubnd", "tramyte", "truonghoc"), strict=True))
ANSWER_LABELS: dict[int, str] = vocab.answer_labels()
# "No valid answer" spellings (docs/sources.md: anything but 1-5 or a label).
INVALID_ANSWERS: tuple[str, ...] = ("", "0", "6", "x", "X", "-", "9")

# --- Controlled values ------------------------------------------------------------------
ST_RECEIVED = vocab.value("status", "received")
ST_PROCESSING = vocab.value("status", "processing")
ST_SUPPLEMENT = vocab.value("status", "supplement")
ST_RESULT = vocab.value("status", "result")
ST_RETURNED = vocab.value("status", "returned")
ST_WITHDRAWN = vocab.value("status", "withdrawn")
ST_REFUSED = vocab.value("status", "refused")
ST_STOPPED = vocab.value("status", "stopped")
STATUSES: tuple[str, ...] = vocab.values("status")
TERMINAL_OUT: tuple[str, ...] = vocab.values("status", category="withdrawn_or_refused")

# a channel by the number exports may carry instead of the word
CHANNEL_KEYS: dict[int, str] = {int(e.code): e.role for e in vocab.entries("channel")}
CHANNEL_WORDS: dict[int, str] = {int(e.code): e.value for e in vocab.entries("channel")}
_CHANNEL_NUMBERS = {role: n for n, role in CHANNEL_KEYS.items()}
CH_DIRECT, CH_ONLINE, CH_POSTAL = (_CHANNEL_NUMBERS[r] for r in ("direct", "online", "postal"))

PLACE_DESK = vocab.value("reception_place", "desk")
PLACE_SPECIALIST = vocab.value("reception_place", "specialist")


@dataclass(frozen=True)
class Procedure:
    """An administrative procedure handled at commune level.

    ``days`` is the statutory processing time in working days: the due date
    is received + ``days`` working days (0 = returned the same day).
    """

    code: str
    name: str
    sector: str
    days: int
    weight: float


PROCEDURES: tuple[Procedure, ...] = (
    Procedure("T-KHA-285001-TT", "Đăng ký khai sinh", "Hộ tịch", 1, 14),
    Procedure("T-KHA-285002-TT", "Đăng ký kết hôn", "Hộ tịch", 3, 5),
    Procedure("T-KHA-285003-TT", "Đăng ký khai tử", "Hộ tịch", 1, 4),
    Procedure("T-KHA-285004-TT", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", 1, 7),
    Procedure("T-KHA-285005-TT", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3, 8),
    Procedure(
        "T-KHA-285006-TT", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "Hộ tịch", 3, 3
    ),
    Procedure("T-KHA-285007-TT", "Đăng ký nhận cha, mẹ, con", "Hộ tịch", 3, 1),
    Procedure(
        "T-KHA-286001-TT", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", 0, 18
    ),
    Procedure(
        "T-KHA-286002-TT", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", 0, 6
    ),
    Procedure(
        "T-KHA-286003-TT",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        "Chứng thực",
        2,
        2,
    ),
    Procedure(
        "T-KHA-286004-TT",
        "Chứng thực hợp đồng, giao dịch liên quan đến quyền sử dụng đất, nhà ở",
        "Chứng thực",
        2,
        5,
    ),
    Procedure("T-KHA-287001-TT", "Hòa giải tranh chấp đất đai", "Đất đai", 30, 1),
    Procedure(
        "T-KHA-287002-TT",
        "Xác nhận hồ sơ đăng ký đất đai, cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
        "Đất đai",
        10,
        3,
    ),
    Procedure("T-KHA-287003-TT", "Xác nhận hồ sơ chuyển mục đích sử dụng đất", "Đất đai", 7, 1),
    Procedure(
        "T-KHA-288001-TT",
        "Thực hiện trợ cấp xã hội hàng tháng đối với đối tượng bảo trợ xã hội",
        "Bảo trợ xã hội",
        15,
        2,
    ),
    Procedure(
        "T-KHA-288002-TT",
        "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
        "Bảo trợ xã hội",
        5,
        1,
    ),
    Procedure(
        "T-KHA-288003-TT",
        "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm",
        "Bảo trợ xã hội",
        7,
        2,
    ),
    Procedure(
        "T-KHA-289001-TT", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", "Người có công", 5, 1
    ),
    Procedure(
        "T-KHA-290001-TT",
        "Tặng Giấy khen của Chủ tịch UBND cấp xã",
        "Thi đua – Khen thưởng",
        5,
        0.5,
    ),
    Procedure("T-KHA-291001-TT", "Đăng ký hoạt động tín ngưỡng", "Tín ngưỡng, tôn giáo", 15, 0.3),
)
PROCEDURE_WEIGHTS: tuple[float, ...] = tuple(p.weight for p in PROCEDURES)

# --- Synthetic people -------------------------------------------------------------------
FAMILY_NAMES: tuple[str, ...] = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Võ",
    "Phan",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Hồ",
)
MIDDLE_NAMES: tuple[str, ...] = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Thị Kim")
GIVEN_NAMES: tuple[str, ...] = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thủy",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Ánh",
    "Đạt",
    "Ước",
)
STREETS: tuple[str, ...] = (
    "Trần Quý Cáp",
    "Hùng Vương",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Phú",
    "Lạc Long Quân",
    "Nguyễn Thị Ngọc Oanh",
    "Đinh Tiên Hoàng",
)
HAMLETS: tuple[str, ...] = (
    "Thôn Phước Lâm",
    "Thôn Tân Phú",
    "Thôn Đông Hải",
    "Thôn Xuân Mỹ",
    "Thôn Lạc Hòa",
    "Thôn Quang Đông",
    "Thôn Mỹ Lương",
    "Thôn Vạn Thọ",
)
EMAIL_DOMAINS: tuple[str, ...] = ("example.vn", "example.com")
# Placeholders that docs/rules.md counts as "missing" (compared case/accent-insensitively).
PLACEHOLDERS: tuple[str, ...] = (
    "-",
    ".",
    "0",
    "x",
    "X",
    "n/a",
    "N/A",
    "na",
    "NA",
    "không",
    "Không",
    "không có",
    "Không có",
    "KHÔNG CÓ",
    "khong co",
)
OFFICERS: tuple[str, ...] = ("Lê Thị Mẫu", "Trần Văn Thử", "Phạm Thị Ví Dụ", "Võ Văn Mẫu")
NOTES: tuple[str, ...] = ("", "", "", "Hồ sơ đầy đủ", "Đã hướng dẫn bổ sung", "Liên thông")

SURVEY_COMMENTS: tuple[str, ...] = (
    "Cán bộ nhiệt tình, hướng dẫn chu đáo.",
    "Thời gian chờ lâu, đề nghị bố trí thêm ghế ngồi.",
    "Đề nghị niêm yết thủ tục rõ ràng hơn",
    "Phải đi lại nhiều lần, hẹn trả trễ.",
    'Cán bộ nói "tuần sau quay lại" nhưng không ghi phiếu hẹn.',
    "Cần cải thiện:\n- chỗ để xe\n- nước uống",
    "Liên hệ tôi qua số 0905 000 187 nếu cần.",
    "Anh Nguyễn Văn Mẫu ở bộ phận một cửa hướng dẫn tận tình",
    "Phí, lệ phí được công khai; thái độ tốt",
    "Không có ý kiến",
)

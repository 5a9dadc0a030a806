-- Schema raw, owned by the loader (motcua.ingest.loader.ensure_raw_schema,
-- the only code that runs this file).
-- Append-only: every delivered row is kept as text, exactly as decoded from
-- its file (no trimming, no NFC), with its lineage. dbt reads from here.
-- Idempotent: safe to run on every pipeline start.

create schema if not exists raw;

create table if not exists raw.load_batches (
    batch_id     bigint generated always as identity primary key,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    run_date     date not null,
    inbox_dir    text
);

-- Row numbers of a COPY: the loader holds an advisory lock while it loads,
-- so one file's rows take consecutive values (see motcua.ingest.loader).
create sequence if not exists raw.copy_row_seq cache 1000;

-- One row per delivered file (or API pull). sha256 makes a re-delivered
-- file a no-op (status 'duplicate', no rows); status 'rejected' keeps files
-- that could not be read at all, with the reason in error.
create table if not exists raw.load_files (
    file_id      bigint generated always as identity primary key,
    batch_id     bigint not null references raw.load_batches (batch_id),
    source       text not null check (source in ('onestop', 'survey')),
    file_name    text not null,
    sha256       text not null,
    file_format  text not null,          -- csv-utf8, csv-utf8-bom, csv-win1258, xlsx, api-json
    rows_read    bigint not null default 0,
    status       text not null check (status in ('loaded', 'rejected', 'duplicate')),
    error        text,
    loaded_at    timestamptz not null default now()
);
-- (re)stated so that an older warehouse learns new statuses
alter table raw.load_files drop constraint if exists load_files_status_check;
alter table raw.load_files add constraint load_files_status_check
    check (status in ('loaded', 'rejected', 'duplicate'));
-- A re-delivered file is a no-op once loaded; a rejected one may come again fixed.
create unique index if not exists load_files_loaded_sha256
    on raw.load_files (source, sha256) where status = 'loaded';

create table if not exists raw.onestop_rows (
    -- lineage; the loader sets the motcua.* settings for each file, so COPY
    -- can stream the file's bytes straight into this table (no per-row work
    -- in Python, no second copy through a temp table)
    file_id          bigint not null default current_setting('motcua.file_id')::bigint,
    batch_id         bigint not null default current_setting('motcua.batch_id')::bigint,
    file_name        text not null default current_setting('motcua.file_name'),
    row_number       bigint not null          -- 1 = first data record after the header
        default (nextval('raw.copy_row_seq') - current_setting('motcua.row_base')::bigint),
    loaded_at        timestamptz not null default now(),
    row_error        text,                    -- record-level problem (wrong field count...)
    raw_record       text[],                  -- all fields as read, kept when row_error is set
    -- columns the contract does not know (STT, notes...), kept verbatim in file order
    extra_1 text, extra_2 text, extra_3 text, extra_4 text,
    extra_5 text, extra_6 text, extra_7 text, extra_8 text,
    dossier_code     text,   -- Mã hồ sơ
    unit_code        text,   -- Mã đơn vị
    unit_name        text,   -- Tên đơn vị
    procedure_code   text,   -- Mã thủ tục
    procedure_name   text,   -- Tên thủ tục
    sector           text,   -- Lĩnh vực
    channel          text,   -- Kênh nộp
    reception_place  text,   -- Nơi tiếp nhận
    received_at      text,   -- Ngày tiếp nhận
    due_at           text,   -- Ngày hẹn trả
    result_at        text,   -- Ngày có kết quả
    returned_at      text,   -- Ngày trả kết quả
    status           text,   -- Trạng thái
    apology_at       text,   -- Ngày xin lỗi
    apology_due_at   text,   -- Ngày hẹn trả lại
    applicant_name   text,   -- Họ tên người nộp   (personal data)
    address          text,   -- Địa chỉ            (personal data)
    phone            text,   -- Số điện thoại      (personal data)
    email            text,   -- Email              (personal data)
    updated_at       text,   -- Cập nhật lúc
    -- optional headers of newer exports: null = the file lacks the column,
    -- '' = the file has it and the value is empty (the 766 index needs both)
    e_result         text,   -- Kết quả điện tử
    digitised        text,   -- Số hóa hồ sơ
    fee              text,   -- Phí, lệ phí
    paid_online      text,   -- Thanh toán trực tuyến
    rating           text    -- Đánh giá
);
-- (re)stated so that an older warehouse gets the optional columns
alter table raw.onestop_rows
    add column if not exists e_result text,
    add column if not exists digitised text,
    add column if not exists fee text,
    add column if not exists paid_online text,
    add column if not exists rating text;
-- Only a BRIN index on file_id: files are appended in load order, so a few
-- block ranges hold a file and the nightly incremental build reads just the
-- new files' blocks instead of the whole history (a B-tree would be paid per
-- row by COPY; BRIN costs nothing measurable in `make bench`).
create index if not exists onestop_rows_file_id_brin on raw.onestop_rows using brin (file_id);

create table if not exists raw.survey_rows (
    -- lineage; the loader sets the motcua.* settings for each file, so COPY
    -- can stream the file's bytes straight into this table (no per-row work
    -- in Python, no second copy through a temp table)
    file_id          bigint not null default current_setting('motcua.file_id')::bigint,
    batch_id         bigint not null default current_setting('motcua.batch_id')::bigint,
    file_name        text not null default current_setting('motcua.file_name'),
    row_number       bigint not null          -- 1 = first data record after the header
        default (nextval('raw.copy_row_seq') - current_setting('motcua.row_base')::bigint),
    loaded_at        timestamptz not null default now(),
    row_error        text,                    -- record-level problem (wrong field count...)
    raw_record       text[],                  -- all fields as read, kept when row_error is set
    -- columns the contract does not know (STT, notes...), kept verbatim in file order
    extra_1 text, extra_2 text, extra_3 text, extra_4 text,
    extra_5 text, extra_6 text, extra_7 text, extra_8 text,
    response_id      text,   -- Mã phiếu
    survey_year      text,   -- Năm
    unit_code        text,   -- Mã đơn vị
    agency           text,   -- Cơ quan
    survey_date      text,   -- Ngày khảo sát
    ans_access       text,   -- Tiếp cận dịch vụ
    ans_procedure    text,   -- Thủ tục hành chính
    ans_staff        text,   -- Công chức
    ans_result       text,   -- Kết quả
    ans_feedback     text,   -- Góp ý phản ánh
    dossier_code     text,   -- Mã hồ sơ
    comment          text    -- Ý kiến (personal data may occur)
);

-- "changed since" watermark of the one-stop-shop HTTP API connector.
create table if not exists raw.api_watermarks (
    source_name   text primary key,
    changed_since timestamptz not null,
    updated_at    timestamptz not null default now()
);

-- The national unit reference, copied from src/motcua/reference/data/ by
-- motcua.reference.load when a file's SHA-256 changes (docs/map.md).
create table if not exists raw.admin_units (
    commune_code     text not null,
    commune_name     text not null,
    commune_type     text,
    district_code    text,
    district_name    text,
    province_code    text not null,
    province_name    text not null,
    valid_from       date not null,
    valid_to         date,
    valid_from_basis text,
    source           text,
    primary key (commune_code, valid_from)
);

create table if not exists raw.admin_unit_crosswalk (
    from_code            text not null,
    from_valid_from      date not null,
    to_code              text not null,
    to_valid_from        date not null,
    change_date          date not null,
    change_type          text not null,
    is_default_successor boolean not null,
    primary key (from_code, from_valid_from, to_code, to_valid_from)
);

create table if not exists raw.reference_loads (
    file_name  text primary key,
    sha256     text not null,
    rows       bigint not null,
    loaded_at  timestamptz not null default now()
);

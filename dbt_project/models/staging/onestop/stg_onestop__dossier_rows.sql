{#-
    Every raw one-stop-shop row with its lineage, text normalised (NFC,
    trimmed, empty -> null), channel / status / reception place mapped to
    their canonical Vietnamese values (seed vocabularies; null when not in
    the vocabulary: the text as delivered stays beside them) and dates
    parsed safely. Nothing is
    filtered or judged here: int_onestop__rows_checked applies the
    quarantine rules.
-#}
{#- the values of each step, each computed once per row (macro computed_once) -#}
{%- set texts = [
    ('row_error', 'text', clean_text('source.row_error')),
    ('dossier_code', 'text', clean_text('source.dossier_code')),
    ('unit_code_text', 'text', clean_text('source.unit_code')),
    ('unit_name', 'text', clean_text('source.unit_name')),
    ('procedure_code', 'text', clean_text('source.procedure_code')),
    ('procedure_name', 'text', clean_text('source.procedure_name')),
    ('sector', 'text', clean_text('source.sector')),
    ('channel_text', 'text', clean_text('source.channel')),
    ('reception_place_text', 'text', clean_text('source.reception_place')),
    ('status_text', 'text', clean_text('source.status')),
    ('received_at_text', 'text', clean_text('source.received_at')),
    ('due_at_text', 'text', clean_text('source.due_at')),
    ('result_at_text', 'text', clean_text('source.result_at')),
    ('returned_at_text', 'text', clean_text('source.returned_at')),
    ('apology_at_text', 'text', clean_text('source.apology_at')),
    ('apology_due_at_text', 'text', clean_text('source.apology_due_at')),
    ('updated_at_text', 'text', clean_text('source.updated_at')),
    ('applicant_name', 'text', clean_text('source.applicant_name')),
    ('address', 'text', clean_text('source.address')),
    ('phone', 'text', clean_text('source.phone')),
    ('email', 'text', clean_text('source.email')),
    ('e_result_text', 'text', clean_text('source.e_result')),
    ('digitised_text', 'text', clean_text('source.digitised')),
    ('fee_text', 'text', clean_text('source.fee')),
    ('paid_online_text', 'text', clean_text('source.paid_online')),
    ('rating_text', 'text', clean_text('source.rating')),
    ('e_result_supplied', 'boolean', 'source.e_result is not null'),
    ('digitised_supplied', 'boolean', 'source.digitised is not null'),
    ('fee_supplied', 'boolean', 'source.fee is not null'),
    ('paid_online_supplied', 'boolean', 'source.paid_online is not null'),
    ('rating_supplied', 'boolean', 'source.rating is not null'),
] -%}
{%- set keys = [
    ('channel', 'text', map_vocabulary('cleaned.channel_text', vocabulary_mapping('channel'))),
    ('reception_place', 'text',
        map_vocabulary('cleaned.reception_place_text', vocabulary_mapping('reception_place'))),
    ('status', 'text', map_vocabulary('cleaned.status_text', vocabulary_mapping('status'))),
    ('received_at_parts', 'bigint', vn_datetime_parts('cleaned.received_at_text')),
    ('due_at_parts', 'bigint', vn_datetime_parts('cleaned.due_at_text')),
    ('result_at_parts', 'bigint', vn_datetime_parts('cleaned.result_at_text')),
    ('returned_at_parts', 'bigint', vn_datetime_parts('cleaned.returned_at_text')),
    ('apology_at_parts', 'bigint', vn_datetime_parts('cleaned.apology_at_text')),
    ('apology_due_at_parts', 'bigint', vn_datetime_parts('cleaned.apology_due_at_text')),
    ('updated_at_parts', 'bigint', vn_datetime_parts('cleaned.updated_at_text')),
    ('e_result', 'boolean', index766_yes('cleaned.e_result_text', 'cleaned.e_result_supplied')),
    ('digitised', 'boolean', index766_yes('cleaned.digitised_text', 'cleaned.digitised_supplied')),
    ('has_fee', 'boolean', index766_has_fee('cleaned.fee_text', 'cleaned.fee_supplied')),
    ('paid_online', 'boolean', index766_yes('cleaned.paid_online_text', 'cleaned.paid_online_supplied')),
    ('rating', 'text', index766_rating('cleaned.rating_text')),
] -%}
{%- set dates = [
    ('received_at', 'timestamp', vn_datetime_from_parts('keyed.received_at_parts')),
    ('due_at', 'timestamp', vn_datetime_from_parts('keyed.due_at_parts')),
    ('result_at', 'timestamp', vn_datetime_from_parts('keyed.result_at_parts')),
    ('returned_at', 'timestamp', vn_datetime_from_parts('keyed.returned_at_parts')),
    ('apology_at', 'timestamp', vn_datetime_from_parts('keyed.apology_at_parts')),
    ('apology_due_at', 'timestamp', vn_datetime_from_parts('keyed.apology_due_at_parts')),
    ('updated_at', 'timestamp', vn_datetime_from_parts('keyed.updated_at_parts')),
    ('load_day', 'date', local_date('keyed.loaded_at')),
] -%}

with

source as (

    select * from {{ source('onestop', 'onestop_rows') }}

),

cleaned as (

    select
        source.file_id::bigint as file_id,
        source.batch_id::bigint as batch_id,
        source.file_name,
        source.row_number::bigint as row_number,
        source.loaded_at,
        source.raw_record,
        texts.*  -- noqa: RF01
    from source
    -- ROWS FROM, which sqlfluff cannot parse: see macro computed_once
    cross join lateral {{ computed_once('texts', texts) }}  -- noqa: PRS

),

keyed as (

    select
        cleaned.*,
        keys.*  -- noqa: RF01
    from cleaned
    -- ROWS FROM, which sqlfluff cannot parse: see macro computed_once
    cross join lateral {{ computed_once('keys', keys) }}  -- noqa: PRS

),

parsed as (

    select
        keyed.*,
        dates.*  -- noqa: RF01
    from keyed
    -- ROWS FROM, which sqlfluff cannot parse: see macro computed_once
    cross join lateral {{ computed_once('dates', dates) }}  -- noqa: PRS

),

final as (

    select
        file_id,
        batch_id,
        file_name,
        row_number,
        loaded_at,
        load_day,
        row_error,
        raw_record,
        dossier_code,
        {{ gso_code('unit_code_text') }} as unit_code,
        unit_name,
        procedure_code,
        procedure_name,
        sector,
        channel,
        channel_text,
        reception_place,
        reception_place_text,
        status,
        status_text,
        received_at,
        due_at,
        result_at,
        returned_at,
        apology_at,
        apology_due_at,
        updated_at,
        received_at_text,
        due_at_text,
        result_at_text,
        returned_at_text,
        apology_at_text,
        apology_due_at_text,
        updated_at_text,
        array_remove(
            array[
                case
                    when received_at_text is not null and received_at is null
                        then 'Ngày tiếp nhận'
                end,
                case
                    when due_at_text is not null and due_at is null
                        then 'Ngày hẹn trả'
                end,
                case
                    when result_at_text is not null and result_at is null
                        then 'Ngày có kết quả'
                end,
                case
                    when returned_at_text is not null and returned_at is null
                        then 'Ngày trả kết quả'
                end,
                case
                    when apology_at_text is not null and apology_at is null
                        then 'Ngày xin lỗi'
                end,
                case
                    when apology_due_at_text is not null and apology_due_at is null
                        then 'Ngày hẹn trả lại'
                end,
                case
                    when updated_at_text is not null and updated_at is null
                        then 'Cập nhật lúc'
                end
            ],
            null
        ) as unparseable_dates,
        applicant_name,
        address,
        phone,
        email,
        e_result_text,
        digitised_text,
        fee_text,
        paid_online_text,
        rating_text,
        e_result,
        digitised,
        has_fee,
        paid_online,
        rating,
        {{ index766_rated_dissatisfied('rating', 'rating_supplied') }} as rated_dissatisfied,
        -- optional columns whose value is outside their vocabulary: read as
        -- no, and a data-quality finding (not a quarantine reason)
        array_remove(
            array[
                case
                    when {{ index766_yes_no_malformed('e_result_text') }}
                        then 'Kết quả điện tử'
                end,
                case
                    when {{ index766_yes_no_malformed('digitised_text') }}
                        then 'Số hóa hồ sơ'
                end,
                case
                    when {{ index766_fee_malformed('fee_text') }}
                        then 'Phí, lệ phí'
                end,
                case
                    when {{ index766_yes_no_malformed('paid_online_text') }}
                        then 'Thanh toán trực tuyến'
                end,
                case
                    when rating_text is not null and rating is null
                        then 'Đánh giá'
                end
            ],
            null
        ) as malformed_optional_values

    from parsed

)

select * from final

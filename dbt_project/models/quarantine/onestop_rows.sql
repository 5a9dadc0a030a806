{{
    config(
        indexes=[
            {'columns': ['file_id', 'row_number'], 'unique': true},
            {'columns': ['batch_id']},
        ]
    )
}}

{#-
    One-stop-shop rows that cannot be loaded as a dossier, with their
    lineage, the reasons (codes and a readable text) and the values as
    delivered (NFC, trimmed). Personal data stays here, never in marts.
    The rules are int_onestop__rows_checked's; this only words them.
-#}
{%- set after_load -%}
    ' more than {{ var('load_grace_days') }} day{{ 's' if var('load_grace_days') != 1 }}'
    || ' after its file was loaded (' || {{ local_date('checked_rows.loaded_at') }} || ')'
{%- endset -%}
{%- set promised_too_far -%}
    ' more than {{ var('max_days_promised_after_received') }} days after Ngày tiếp nhận'
{%- endset %}
with

checked_rows as (

    -- through the index on (is_valid, arrival_at): the cost follows the
    -- quarantined rows
    select * from {{ ref('int_onestop__rows_checked') }}
    where not is_valid

),

unit_codes as (

    select distinct
        commune_code,
        code_first_day as first_day
    from {{ ref('int_units__commune_lookup') }}

),

explained as (

    select
        checked_rows.*,
        (
            select
                string_agg(
                    case reasons.code
                        when 'malformed_row' then 'malformed row: ' || checked_rows.row_error
                        when 'empty_dossier_code' then 'empty Mã hồ sơ'
                        when 'unknown_unit_code'
                            then
                                'Mã đơn vị '
                                || coalesce(quote_literal(checked_rows.unit_code), 'empty')
                                || ' not in the administrative-unit reference'
                        when 'unparseable_date'
                            then
                                'date that does not parse in '
                                || array_to_string(checked_rows.unparseable_dates, ', ')
                        when 'received_before_unit_valid'
                            then
                                'Ngày tiếp nhận '
                                || quote_literal(checked_rows.received_at_text)
                                || ' is before ' || unit_codes.first_day
                                || ', the first day on which the administrative-unit'
                                || ' reference knows Mã đơn vị '
                                || quote_literal(checked_rows.unit_code)
                        when 'unit_not_valid_on_received_date'
                            then
                                'Mã đơn vị ' || quote_literal(checked_rows.unit_code)
                                || ' names no unit of the administrative-unit reference'
                                || ' on Ngày tiếp nhận '
                                || quote_literal(checked_rows.received_at_text)
                        when 'missing_received_date' then 'missing Ngày tiếp nhận'
                        when 'unknown_status'
                            then
                                'unknown Trạng thái '
                                || coalesce(quote_literal(checked_rows.status_text), '(empty)')
                        when 'unknown_channel'
                            then 'unknown Kênh nộp ' || quote_literal(checked_rows.channel_text)
                        when 'unknown_reception_place'
                            then
                                'unknown Nơi tiếp nhận '
                                || quote_literal(checked_rows.reception_place)
                        when 'missing_due_date' then 'missing Ngày hẹn trả'
                        when 'due_before_received' then 'Ngày hẹn trả earlier than Ngày tiếp nhận'
                        when 'due_too_far'
                            then
                                'Ngày hẹn trả ' || quote_literal(checked_rows.due_at_text)
                                || {{ promised_too_far }}
                        when 'apology_due_too_far'
                            then
                                'Ngày hẹn trả lại '
                                || quote_literal(checked_rows.apology_due_at_text)
                                || {{ promised_too_far }}
                        when 'result_before_received'
                            then
                                'Ngày có kết quả earlier than Ngày tiếp nhận'
                        when 'returned_before_received'
                            then
                                'Ngày trả kết quả earlier than Ngày tiếp nhận'
                        when 'result_status_without_result_date'
                            then
                                'status ' || checked_rows.status || ' with neither result date'
                        when 'received_after_load'
                            then
                                'Ngày tiếp nhận ' || quote_literal(checked_rows.received_at_text)
                                || {{ after_load }}
                        when 'result_after_load'
                            then
                                'Ngày có kết quả ' || quote_literal(checked_rows.result_at_text)
                                || {{ after_load }}
                        when 'returned_after_load'
                            then
                                'Ngày trả kết quả ' || quote_literal(checked_rows.returned_at_text)
                                || {{ after_load }}
                        when 'apology_after_load'
                            then
                                'Ngày xin lỗi ' || quote_literal(checked_rows.apology_at_text)
                                || {{ after_load }}
                        when 'updated_after_load'
                            then
                                'Cập nhật lúc ' || quote_literal(checked_rows.updated_at_text)
                                || {{ after_load }}
                        else reasons.code
                    end,
                    '; ' order by reasons.position
                )
            from unnest(checked_rows.quarantine_reasons) with ordinality
                as reasons (code, position)
        ) as reason
    from checked_rows
    left join unit_codes
        on checked_rows.unit_code = unit_codes.commune_code

),

final as (

    select
        file_name,
        file_id,
        row_number,
        batch_id,
        loaded_at,
        quarantine_reasons as reasons,
        reason,
        row_error,
        raw_record,
        dossier_code,
        unit_code,
        unit_name,
        procedure_code,
        procedure_name,
        sector,
        channel_text as channel,
        reception_place,
        status_text as status,
        received_at_text as received_at,
        due_at_text as due_at,
        result_at_text as result_at,
        returned_at_text as returned_at,
        apology_at_text as apology_at,
        apology_due_at_text as apology_due_at,
        applicant_name,
        address,
        phone,
        email,
        updated_at_text as updated_at
    from explained

)

select * from final

{#-
    Every raw one-stop-shop row with its lineage, text normalised (NFC,
    trimmed, empty -> null), channel / status / reception place mapped to
    their canonical Vietnamese values and dates parsed safely. Nothing is
    filtered or judged here: int_onestop__rows_checked applies the
    quarantine rules.
-#}
with

source as (

    select * from {{ source('onestop', 'onestop_rows') }}

),

cleaned as (

    select
        file_id::bigint as file_id,
        batch_id::bigint as batch_id,
        file_name,
        row_number::bigint as row_number,
        loaded_at,
        {{ clean_text('row_error') }} as row_error,
        raw_record,
        {{ clean_text('dossier_code') }} as dossier_code,
        {{ clean_text('unit_code') }} as unit_code_text,
        {{ clean_text('unit_name') }} as unit_name,
        {{ clean_text('procedure_code') }} as procedure_code,
        {{ clean_text('procedure_name') }} as procedure_name,
        {{ clean_text('sector') }} as sector,
        {{ clean_text('channel') }} as channel_text,
        {{ clean_text('reception_place') }} as reception_place_text,
        {{ clean_text('status') }} as status_text,
        {{ clean_text('received_at') }} as received_at_text,
        {{ clean_text('due_at') }} as due_at_text,
        {{ clean_text('result_at') }} as result_at_text,
        {{ clean_text('returned_at') }} as returned_at_text,
        {{ clean_text('apology_at') }} as apology_at_text,
        {{ clean_text('apology_due_at') }} as apology_due_at_text,
        {{ clean_text('updated_at') }} as updated_at_text,
        {{ clean_text('applicant_name') }} as applicant_name,
        {{ clean_text('address') }} as address,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('email') }} as email

    from source

),

keyed as (

    select
        *,
        {{ text_key('channel_text') }} as channel_key,
        {{ text_key('status_text') }} as status_key,
        {{ text_key('reception_place_text') }} as reception_place_key,
        {{ vn_datetime_parts('received_at_text') }} as received_at_parts,
        {{ vn_datetime_parts('due_at_text') }} as due_at_parts,
        {{ vn_datetime_parts('result_at_text') }} as result_at_parts,
        {{ vn_datetime_parts('returned_at_text') }} as returned_at_parts,
        {{ vn_datetime_parts('apology_at_text') }} as apology_at_parts,
        {{ vn_datetime_parts('apology_due_at_text') }} as apology_due_at_parts,
        {{ vn_datetime_parts('updated_at_text') }} as updated_at_parts

    from cleaned

),

parsed as (

    select
        *,
        {{ vn_datetime_from_parts('received_at_parts') }} as received_at,
        {{ vn_datetime_from_parts('due_at_parts') }} as due_at,
        {{ vn_datetime_from_parts('result_at_parts') }} as result_at,
        {{ vn_datetime_from_parts('returned_at_parts') }} as returned_at,
        {{ vn_datetime_from_parts('apology_at_parts') }} as apology_at,
        {{ vn_datetime_from_parts('apology_due_at_parts') }} as apology_due_at,
        {{ vn_datetime_from_parts('updated_at_parts') }} as updated_at

    from keyed

),

final as (

    select
        file_id,
        batch_id,
        file_name,
        row_number,
        loaded_at,
        row_error,
        raw_record,
        dossier_code,
        {{ gso_code('unit_code_text') }} as unit_code,
        unit_name,
        procedure_code,
        procedure_name,
        sector,
        case
            when channel_key in ('1', 'truc tiep') then 'Trực tiếp'
            when channel_key in ('2', 'truc tuyen') then 'Trực tuyến'
            when channel_key in ('3', 'buu chinh cong ich') then 'Bưu chính công ích'
        end as channel,
        channel_text,
        case reception_place_key
            when 'bo phan mot cua' then 'Bộ phận một cửa'
            when 'cong chuc chuyen mon' then 'Công chức chuyên môn'
            else reception_place_text
        end as reception_place,
        case status_key
            when 'da tiep nhan' then 'Đã tiếp nhận'
            when 'dang xu ly' then 'Đang xử lý'
            when 'cho bo sung' then 'Chờ bổ sung'
            when 'da co ket qua' then 'Đã có kết quả'
            when 'da tra ket qua' then 'Đã trả kết quả'
            when 'da rut' then 'Đã rút'
            when 'tu choi tiep nhan' then 'Từ chối tiếp nhận'
            when 'dung xu ly' then 'Dừng xử lý'
        end as status,
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
        email

    from parsed

)

select * from final

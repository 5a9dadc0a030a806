{#- Text normalisation shared by the staging models. -#}

{#-
    NFC, surrounding white space (incl. no-break space and BOM) trimmed,
    empty -> null. Raw text is kept as decoded by the loader (no NFC, no trim).
-#}
{% macro clean_text(expr) -%}
    nullif(btrim(normalize({{ expr }}, nfc), e' \t\r\n\u00a0\ufeff'), '')
{%- endmacro %}

{#-
    Accent- and case-insensitive comparison key: decomposed, combining marks
    removed, đ -> d, lower case, inner white space collapsed.
    'Không Có' -> 'khong co', 'Trực tuyến' -> 'truc tuyen'.
-#}
{% macro text_key(expr) -%}
    lower(
        regexp_replace(
            translate(
                regexp_replace(normalize(btrim({{ expr }}), nfd), '[\u0300-\u036f]', '', 'g'),
                'đĐ',
                'dD'
            ),
            '\s+',
            ' ',
            'g'
        )
    )
{%- endmacro %}

{#- A GSO unit code: digits left-padded to 5 (Excel drops leading zeros). -#}
{% macro gso_code(expr) -%}
    case
        when {{ expr }} ~ '^[0-9]{1,5}$' then lpad({{ expr }}, 5, '0')
        else {{ expr }}
    end
{%- endmacro %}

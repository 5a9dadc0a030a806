{#-
    Citizen contact fields (docs/rules.md "Citizen contact fields"). Each rule is
    defined here only; int_onestop__rows_checked applies them to every row.
-#}

{#-
    Present = not missing. Missing: empty after trimming, or a placeholder,
    compared case- and accent-insensitively ('KHÔNG CÓ', 'khong co', 'N/A').
    Only text made of white space, combining marks and Latin letters that
    can be accented forms of the placeholders' characters can be one, so the
    comparison key (the costly part) is computed only for such text; any
    other text is present. Same result, a fraction of the cost.
-#}
{% macro is_contact_present(expr) -%}
    coalesce(
        nullif(btrim({{ expr }}), '') is not null
        and (
            {{ expr }} !~ '{{ placeholder_characters() }}'
            or {{ text_key(expr) }} not in ('-', '.', '0', 'x', 'n/a', 'na', 'khong', 'khong co')
        ),
        false
    )
{%- endmacro %}

{#-
    Every text whose comparison key (text_key) can be a placeholder matches:
    the placeholders' characters, white space, the combining marks text_key
    removes, and the Latin blocks holding their accented forms (plus Kelvin
    and Ångström signs, which decompose to K and Å).
-#}
{% macro placeholder_characters() -%}
    ^[-./0aAcCgGhHkKnNoOxX{{ space_characters() }}\u00C0-\u024F\u1E00-\u1EFF\u0300-\u036F\u212A\u212B]*$
{%- endmacro %}

{#-
    Phone as compared: spaces, dots, dashes and brackets removed, a leading
    +84 or 84 turned into 0. '+84 (905) 123-456' -> '0905123456'.
-#}
{% macro phone_normalised(expr) -%}
    regexp_replace(
        regexp_replace({{ expr }}, '[{{ space_characters() }}.()\[\]{}-]', '', 'g'),
        '^\+?84',
        '0'
    )
{%- endmacro %}

{#-
    10- and 11-digit numbers: mobile and landline, pre- and post-2018 plans.
    No placeholder can match, so a missing phone is never valid.
-#}
{% macro is_phone_valid(expr) -%}
    coalesce({{ phone_normalised(expr) }} ~ '^0[1-9][0-9]{8,9}$', false)
{%- endmacro %}

{#- No placeholder can match, so a missing email is never valid. -#}
{% macro is_email_valid(expr) -%}
    coalesce(
        btrim({{ expr }})
        ~ '^[^@{{ space_characters() }}]+@[^@{{ space_characters() }}]+\.[^@{{ space_characters() }}]{2,}$',
        false
    )
{%- endmacro %}

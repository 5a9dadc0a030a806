{#-
    Citizen contact fields (RULES.md "Citizen contact fields"). Each rule is
    defined here only; int_onestop__dossier_facts applies them.
-#}

{#-
    Present = not missing. Missing: empty after trimming, or a placeholder,
    compared case- and accent-insensitively ('KHÔNG CÓ', 'khong co', 'N/A').
-#}
{% macro is_contact_present(expr) -%}
    coalesce(
        nullif(btrim({{ expr }}), '') is not null
        and {{ text_key(expr) }} not in ('-', '.', '0', 'x', 'n/a', 'na', 'khong', 'khong co'),
        false
    )
{%- endmacro %}

{#-
    Phone as compared: spaces, dots, dashes and brackets removed, a leading
    +84 or 84 turned into 0. '+84 (905) 123-456' -> '0905123456'.
-#}
{% macro phone_normalised(expr) -%}
    regexp_replace(
        regexp_replace({{ expr }}, '[[:space:].()\[\]{}-]', '', 'g'),
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
    coalesce(btrim({{ expr }}) ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]{2,}$', false)
{%- endmacro %}

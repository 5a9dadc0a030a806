{#-
    Surrogate key of an administrative-unit version: the GSO code alone is
    not a key, because codes are reused (22606 was Xã Ninh Vân until
    31/10/2024, then Xã Ninh Phước; 22528 was Phường Ninh Hiệp, then Phường
    Ninh Hòa from 01/07/2025). '22534-20110101'.
-#}
{% macro commune_key(code, valid_from) -%}
    ({{ code }} || '-' || to_char({{ valid_from }}, 'YYYYMMDD'))
{%- endmacro %}

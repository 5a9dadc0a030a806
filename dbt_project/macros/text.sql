{#- Text normalisation shared by the staging models. -#}

{#-
    NFC, surrounding white space (incl. no-break space and BOM) trimmed,
    empty -> null. Raw text is kept as decoded by the loader (no NFC, no trim).
    normalize() is only called on text that needs it: ASCII (as many bytes as
    characters) and text already in NFC are left as they are, which is the
    same result at a fraction of the cost (the staging view reads every raw
    row: normalize() on 25 columns was most of the full build).
-#}
{% macro clean_text(expr) -%}
    nullif(btrim({{ nfc(expr) }}, e' \t\r\n\u00a0\ufeff'), '')
{%- endmacro %}

{#-
    Characters that NFC leaves alone wherever they stand: U+0001-U+02FF (Latin,
    IPA, spacing modifiers) and U+1E00-U+1EFF (Latin Extended Additional, all
    precomposed Vietnamese letters) are starters that compose with nothing
    after them, so a text made only of them is NFC. The regular expression
    matches any other character; text without one (nearly every Vietnamese
    text) skips `is nfc normalized`, which costs twice as much.
    tests/dbt_project/test_nfc_unsafe_character.py checks the claim against
    Python's Unicode database and PostgreSQL's normaliser.
-#}
{% macro nfc_unsafe_character() -%}
    [^\u0001-\u02ff\u1e00-\u1eff]
{%- endmacro %}

{% macro nfc(expr) -%}
    case
        when octet_length({{ expr }}) = length({{ expr }}) then {{ expr }}
        when {{ expr }} !~ '{{ nfc_unsafe_character() }}' then {{ expr }}
        when {{ expr }} is nfc normalized then {{ expr }}
        else normalize({{ expr }}, nfc)
    end
{%- endmacro %}

{#-
    White space inside a bracket expression, the same on every server: the
    class [:space:] plus the no-break spaces (U+00A0, U+2007, U+202F) and
    NEL (U+0085), which Unicode counts as white space (PostgreSQL's builtin
    C.UTF-8 locale, the embedded server's) and glibc's C.UTF-8 does not.
    Without them an NBSP between two words would split them on one server
    and not on the other.
-#}
{% macro space_characters() -%}
    [:space:]\u00a0\u2007\u202f\u0085
{%- endmacro %}

{#-
    Accent- and case-insensitive comparison key: decomposed, combining marks
    removed, đ -> d, lower case, inner white space (no-break spaces
    included) collapsed.
    Không Có -> khong co, Trực tuyến -> truc tuyen.
-#}
{% macro text_key(expr) -%}
    lower(
        regexp_replace(
            translate(
                regexp_replace(normalize(btrim({{ expr }}), nfd), '[\u0300-\u036f]', '', 'g'),
                'đĐ',
                'dD'
            ),
            '[{{ space_characters() }}]+',
            ' ',
            'g'
        )
    )
{%- endmacro %}

{#-
    A GSO unit code: digits left-padded to 5 (Excel drops leading zeros). Only
    a code shorter than 5 characters can need it: the length is checked first,
    so the regular expression does not run for the codes already in shape.
-#}
{% macro gso_code(expr) -%}
    case
        when octet_length({{ expr }}) < 5 and {{ expr }} ~ '^[0-9]{1,4}$'
            then lpad({{ expr }}, 5, '0')
        else {{ expr }}
    end
{%- endmacro %}

{#-
    A controlled vocabulary: the canonical value whose accent- and
    case-insensitive key matches, else `default`. `mapping` is a list of
    (canonical value, [keys]). The canonical spelling and the keys themselves
    are recognised by plain comparison first, so text_key() (the costly part)
    only runs for the other spellings; the result is the same.
-#}
{% macro map_vocabulary(expr, mapping, default='null') -%}
    case
        {%- for canonical, keys in mapping %}
        when {{ expr }} in ('{{ canonical }}'{% for key in keys %}, '{{ key }}'{% endfor %})
            then '{{ canonical }}'
        {%- endfor %}
        else
            case {{ text_key(expr) }}
                {%- for canonical, keys in mapping %}{% for key in keys %}
                when '{{ key }}' then '{{ canonical }}'
                {%- endfor %}{% endfor %}
                else {{ default }}
            end
    end
{%- endmacro %}

{#-
    `cross join lateral {{ computed_once('alias', [(name, type, expression), ...]) }}`
    computes each expression once per row, as the columns alias.name. Used where
    later expressions refer to these values many times (a parsed date refers to
    its parts a dozen times): in a plain select list or subquery the planner
    pastes the whole expression into every use. A one-row function in ROWS FROM
    is evaluated once and, unlike a lateral subquery, can run in parallel
    workers; filters on the outer rows still reach the table scan.
-#}
{% macro computed_once(alias, columns) -%}
    rows from (
        coalesce(row(
            {%- for name, type, expression in columns %}
            {{ expression }}{{ "," if not loop.last }}
            {%- endfor %}
        ))
    ) as {{ alias }} (
        {%- for name, type, expression in columns %}
        {{ name }} {{ type }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

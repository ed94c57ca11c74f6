{#
  Locked definitions (docs/definitions.md) that are logic rather than lists (the lists are seeds).
  Each mirrors sender_service/definitions.py or sender_service/booking.py; the test
  tests/test_dbt_definitions.py runs both on the same inputs.
#}

{# Meeting booked, provider-aware: the only SQL that names a booking provider. #}
{% macro is_meeting_booked(provider, ghl_appointment_id, calendly_invitee_uri, calendly_scheduled_event_uri, appointment_status) -%}
    (
        coalesce({{ appointment_status }}, '') <> 'canceled'
        and case {{ provider }}
            when 'GHL' then coalesce({{ ghl_appointment_id }}, '') <> ''
            when 'CALENDLY' then coalesce({{ calendly_invitee_uri }}, '') <> ''
                or coalesce({{ calendly_scheduled_event_uri }}, '') <> ''
            else false
        end
    )
{%- endmacro %}

{# Placeholders a platform writes for "no value" (definitions.PLACEHOLDERS): unknown. #}
{% macro placeholders() -%}
    ('-', 'n/a', 'none', 'unknown')
{%- endmacro %}

{#
  Industry as a segment: trimmed, inner blanks collapsed, lower-cased; empty or a
  placeholder → unknown.
#}
{% macro industry_segment(industry) -%}
    {%- set text = "lower(trim(regexp_replace(" ~ industry ~ ", '\\s+', ' ', 'g')))" -%}
    case
        when coalesce({{ text }}, '') = '' or {{ text }} in {{ placeholders() }} then 'unknown'
        else {{ text }}
    end
{%- endmacro %}

{#
  Headcount bucket: an exact number lands in the bucket containing it, a range by its lower
  bound, an open range N+ where N+1 lands; k means thousand; self-employed and "Myself Only"
  are 1-10; blank, zero, negative, a placeholder or unparseable is unknown. DuckDB regular
  expressions (RE2).
#}
{% macro _headcount_number(text, pattern, group) -%}
    (
        try_cast(replace(regexp_extract({{ text }}, {{ pattern }}, {{ group }}), ',', '') as double)
        * case regexp_extract({{ text }}, {{ pattern }}, {{ group + 1 }})
            when 'k' then 1000 when 'm' then 1000000 else 1 end
    )
{%- endmacro %}

{% macro _bucket_of(n) -%}
    case
        when {{ n }} is null or {{ n }} <> floor({{ n }}) or {{ n }} <= 0 then 'unknown'
        when {{ n }} >= 10001 then '10001+'
        when {{ n }} >= 5001 then '5001-10000'
        when {{ n }} >= 1001 then '1001-5000'
        when {{ n }} >= 501 then '501-1000'
        when {{ n }} >= 201 then '201-500'
        when {{ n }} >= 51 then '51-200'
        when {{ n }} >= 11 then '11-50'
        else '1-10'
    end
{%- endmacro %}

{% macro headcount_bucket(raw) -%}
    {%- set num = "(\\d{1,3}(?:,\\d{3})+|\\d+(?:\\.\\d+)?)\\s*(k|m)?" -%}
    {%- set exact = "'^" ~ num ~ "$'" -%}
    {%- set open = "'^" ~ num ~ "\\s*(?:\\+|plus|or more|and above|and up)$'" -%}
    {%- set range = "'^" ~ num ~ "\\s*(?:-|–|—|to)\\s*" ~ num ~ "$'" -%}
    {%- set text = "trim(regexp_replace(regexp_replace(lower(trim(cast(" ~ raw ~ " as varchar))), '\\b(?:employees?|people|staff|headcount)\\b', ' ', 'g'), '\\s+', ' ', 'g'))" -%}
    case
        when {{ raw }} is null then 'unknown'
        when lower(trim(cast({{ raw }} as varchar))) in {{ placeholders() }} then 'unknown'
        when {{ text }} in ('self-employed', 'self employed', 'myself only') then '1-10'
        when regexp_full_match({{ text }}, {{ exact }})
            then {{ _bucket_of(_headcount_number(text, exact, 1)) }}
        when regexp_full_match({{ text }}, {{ open }})
            then {{ _bucket_of(_headcount_number(text, open, 1) ~ " + 1") }}
        when regexp_full_match({{ text }}, {{ range }})
            then case
                when {{ _headcount_number(text, range, 3) }} < {{ _headcount_number(text, range, 1) }}
                    then 'unknown'
                else {{ _bucket_of(_headcount_number(text, range, 1)) }}
            end
        else 'unknown'
    end
{%- endmacro %}

{# Wilson score interval (95 %) for a proportion; null when there are no trials. #}
{% macro wilson_low(successes, trials, z=1.96) -%}
    case when {{ trials }} > 0 then
        (
            ({{ successes }} * 1.0 / {{ trials }}) + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            - {{ z }} * sqrt(
                ({{ successes }} * 1.0 / {{ trials }}) * (1 - {{ successes }} * 1.0 / {{ trials }})
                / {{ trials }} + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{% macro wilson_high(successes, trials, z=1.96) -%}
    case when {{ trials }} > 0 then
        (
            ({{ successes }} * 1.0 / {{ trials }}) + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            + {{ z }} * sqrt(
                ({{ successes }} * 1.0 / {{ trials }}) * (1 - {{ successes }} * 1.0 / {{ trials }})
                / {{ trials }} + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}

{# The moment the marts describe: var('as_of') in tests, the run's time otherwise. #}
{% macro as_of() -%}
    {%- if var('as_of') -%} cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%} cast(now() as timestamptz) {%- endif -%}
{%- endmacro %}

{# Monday of the ISO week of a timestamp, in the workspace's time zone. #}
{% macro week_start(ts, tz) -%}
    cast(date_trunc('week', timezone({{ tz }}, {{ ts }})) as date)
{%- endmacro %}

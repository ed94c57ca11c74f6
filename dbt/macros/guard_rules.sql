{#
  The outbound guard's rules, as decisions record them in auto_send_decisions.guard_rules.
  Mirrors sender_service/db/models.py GUARD_RULES (tests/test_outbound_guard.py compares them).
#}
{% macro guard_rules() -%}
    {{ return(['link', 'contact', 'pricing', 'placeholder', 'language', 'length', 'echo']) }}
{%- endmacro %}

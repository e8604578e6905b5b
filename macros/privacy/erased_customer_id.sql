{#- The one customer_id every source record of an erased person is resolved to
    (int_identity_records_resolved): an anonymous placeholder, not a person. Facts keep
    their rows and totals under it; it is never a customer of dim_customers nor segmented. -#}
{% macro erased_customer_id() -%}
    {{ return("'(erased)'") }}
{%- endmacro %}

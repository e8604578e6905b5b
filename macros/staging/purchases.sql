{#- What shop orders and store transactions share: both are purchases with an amount, a
    discount and a currency, by a customer who may be in the customer master. Used by
    base_shop__orders and base_pos__store_transactions. -#}

{#- The purchase's currency code: the raw currency upper-cased, else the reporting
    currency. -#}
{% macro purchase_currency_code() -%}
    upper(coalesce({{ segment_warehouse.clean_text('currency') }}, '{{ var("money.reporting_currency") }}'))
{%- endmacro %}

{#- The parsed purchases of `parsed_relation` with their currency rate, their amounts in the
    reporting currency and what is known of their customer. Expects the CTEs
    currency_rates, customer_keys and customer_master. -#}
{% macro purchase_converted(parsed_relation) -%}
    select
        referenced.*,
        currency_rates.units_per_eur,
        currency_rates.to_reporting_rate,
        {{ segment_warehouse.to_reporting_currency('referenced.amount', 'currency_rates.to_reporting_rate') }} as amount_reporting,
        {{ segment_warehouse.to_reporting_currency('referenced.discount_amount', 'currency_rates.to_reporting_rate') }} as discount_amount_reporting
    from (
        {{ segment_warehouse.customer_referenced(parsed_relation) }}
    ) as referenced
    left join currency_rates
        on referenced.currency_code = currency_rates.currency_code
{%- endmacro %}

{#- The checks of a purchase after its contract checks: its timestamp in range, a known
    currency, no negative amount or discount, no absurd amount (var money.max_order_amount, in
    the reporting currency) and a customer that exists and is staged. -#}
{% macro purchase_checks(timestamp_column) -%}
    {{ return(segment_warehouse.check_timestamp_range(timestamp_column) + [
        (
            'units_per_eur is null',
            'unknown_currency',
            "'currency is not in seeds/currency_rates.csv: ' || currency_code",
        ),
        ('amount < 0', 'negative_amount', "'amount is negative: ' || amount_text"),
        ('discount_amount < 0', 'negative_amount', "'discount_amount is negative: ' || discount_amount_text"),
        (
            'amount_reporting > ' ~ var('money.max_order_amount'),
            'absurd_amount',
            "'amount exceeds money.max_order_amount in " ~ var('money.reporting_currency') ~ ": ' || amount_text || ' ' || currency_code",
        ),
    ] + segment_warehouse.customer_reference_checks()) }}
{%- endmacro %}

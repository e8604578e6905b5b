{#- Coverage invariant: the model holds exactly the customers of the single customer
    view, none missing and none extra. -#}
{% test covers_all_customers(model, customers, customer_key='customer_id') %}

with

model_customers as (
    select distinct {{ customer_key }} as customer_key from {{ model }}
),

known_customers as (
    select {{ customer_key }} as customer_key from {{ customers }}
),

missing as (
    select
        known_customers.customer_key,
        'missing from model' as problem
    from known_customers
    left join model_customers
        on known_customers.customer_key = model_customers.customer_key
    where model_customers.customer_key is null
),

extra as (
    select
        model_customers.customer_key,
        'not in customers' as problem
    from model_customers
    left join known_customers
        on model_customers.customer_key = known_customers.customer_key
    where known_customers.customer_key is null
)

select * from missing
union all
select * from extra

{% endtest %}

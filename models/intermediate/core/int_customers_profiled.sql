{#- The single customer view, built here so intermediate models can use it without
    depending on a mart: one row per person known as of as_of_date (several accounts,
    cards and devices of one person resolved into one by the identity models), with who and where
    they are and what they have done. Optional sources that are absent leave their
    columns null. dim_customers publishes it under a contract. -#}
with

customers as (
    select * from {{ ref('int_customers_unioned') }}
),

customer_accounts as (
    select * from {{ ref('int_customer_accounts_merged') }}
),

order_history as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

sessions as (
    select * from {{ ref('int_customer_sessions_aggregated') }}
),

consents as (
    select * from {{ ref('int_customer_consents_pivoted') }}
),

feedback as (
    select * from {{ ref('int_customer_feedback_aggregated') }}
),

categories as (
    select * from {{ ref('int_customer_categories_aggregated') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

joined as (
    select
        customers.customer_id,
        customer_accounts.loyalty_card_id,
        customer_accounts.email,
        customer_accounts.phone,
        customer_accounts.first_name,
        customer_accounts.last_name,
        customer_accounts.gender,
        customer_accounts.country_code,
        customer_accounts.country_name,
        customer_accounts.region,
        customer_accounts.city,
        customer_accounts.postcode,
        customer_accounts.language_code,
        customer_accounts.locale,
        customer_accounts.company_name,
        customer_accounts.company_industry,
        order_history.preferred_channel,
        categories.top_category,
        sessions.primary_device_type,
        sessions.primary_operating_system,
        customer_accounts.company_size,
        coalesce(customer_accounts.source_record_count, 1) as source_record_count,
        coalesce(customer_accounts.identifier_count, 0) as identifier_count,
        coalesce(order_history.order_count, 0) as order_count,
        coalesce(order_history.active_days, 0) as active_days,
        coalesce(order_history.online_order_count, 0) as online_order_count,
        coalesce(order_history.store_order_count, 0) as store_order_count,
        coalesce(order_history.discounted_order_count, 0) as discounted_order_count,
        coalesce(order_history.gross_spend, 0) as gross_spend,
        coalesce(order_history.refunded_amount, 0) as refunded_amount,
        coalesce(order_history.net_spend, 0) as net_spend,
        coalesce(order_history.discount_amount, 0) as discount_amount,
        coalesce(order_history.refund_count, 0) as refund_count,
        coalesce(order_history.refunded_order_count, 0) as refunded_order_count,
        coalesce(order_history.rfm_order_count, 0) as rfm_order_count,
        coalesce(order_history.rfm_spend, 0) as rfm_spend,
        categories.category_count,
        coalesce(sessions.session_count, 0) as session_count,
        sessions.page_views,
        coalesce(feedback.feedback_count, 0) as feedback_count,
        coalesce(feedback.complaint_count, 0) as complaint_count,
        feedback.average_nps_score,
        feedback.latest_nps_score,
        feedback.average_rating,
        customers.is_in_customer_master,
        coalesce(customer_accounts.is_guest, false) as is_guest,
        coalesce(customer_accounts.is_business, false) as is_business,
        coalesce(consents.has_email_marketing_consent, false) as has_email_marketing_consent,
        coalesce(consents.has_sms_marketing_consent, false) as has_sms_marketing_consent,
        coalesce(consents.has_phone_marketing_consent, false) as has_phone_marketing_consent,
        coalesce(consents.has_post_marketing_consent, false) as has_post_marketing_consent,
        coalesce(consents.has_push_marketing_consent, false) as has_push_marketing_consent,
        coalesce(consents.has_any_marketing_consent, false) as has_any_marketing_consent,
        coalesce(consents.has_objected_to_profiling, false) as has_objected_to_profiling,
        as_of.as_of_date,
        customer_accounts.birth_date,
        cast(customer_accounts.signed_up_at as date) as signup_date,
        case
            when order_history.first_order_date is null
                or cast(customer_accounts.signed_up_at as date) < order_history.first_order_date
                then cast(customer_accounts.signed_up_at as date)
            else order_history.first_order_date
        end as customer_since_date,
        order_history.first_order_date,
        order_history.last_order_date,
        order_history.last_reactivation_date,
        customer_accounts.signed_up_at,
        order_history.first_ordered_at,
        order_history.last_ordered_at,
        sessions.last_session_at,
        feedback.last_feedback_at,
        consents.consent_updated_at
    from customers
    cross join as_of
    left join customer_accounts
        on customers.customer_id = customer_accounts.customer_id
    left join order_history
        on customers.customer_id = order_history.customer_id
    left join sessions
        on customers.customer_id = sessions.customer_id
    left join consents
        on customers.customer_id = consents.customer_id
    left join feedback
        on customers.customer_id = feedback.customer_id
    left join categories
        on customers.customer_id = categories.customer_id
),

final as (
    select
        customer_id,
        loyalty_card_id,
        email,
        phone,
        first_name,
        last_name,
        gender,
        country_code,
        country_name,
        region,
        city,
        postcode,
        language_code,
        locale,
        company_name,
        company_industry,
        preferred_channel,
        top_category,
        primary_device_type,
        primary_operating_system,
        case
            when birth_date <= as_of_date then {{ age_in_years('birth_date', 'as_of_date') }}
        end as age_years,
        company_size,
        cast(source_record_count as {{ dbt.type_bigint() }}) as source_record_count,
        cast(identifier_count as {{ dbt.type_bigint() }}) as identifier_count,
        {{ dbt.datediff('customer_since_date', 'as_of_date', 'day') }} as tenure_days,
        {{ dbt.datediff('first_order_date', 'as_of_date', 'day') }} as days_since_first_order,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as days_since_last_order,
        {{ dbt.datediff('last_reactivation_date', 'as_of_date', 'day') }} as days_since_last_reactivation,
        cast(order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(active_days as {{ dbt.type_bigint() }}) as active_days,
        cast(online_order_count as {{ dbt.type_bigint() }}) as online_order_count,
        cast(store_order_count as {{ dbt.type_bigint() }}) as store_order_count,
        cast(discounted_order_count as {{ dbt.type_bigint() }}) as discounted_order_count,
        cast(gross_spend as {{ type_money() }}) as gross_spend,
        cast(refunded_amount as {{ type_money() }}) as refunded_amount,
        cast(net_spend as {{ type_money() }}) as net_spend,
        cast(discount_amount as {{ type_money() }}) as discount_amount,
        case when order_count > 0 then cast(gross_spend / order_count as {{ type_money() }}) end as average_order_value,
        case when order_count > 0 then cast(discounted_order_count as {{ type_ratio() }}) / order_count end
            as discount_order_share,
        cast(refund_count as {{ dbt.type_bigint() }}) as refund_count,
        cast(refunded_order_count as {{ dbt.type_bigint() }}) as refunded_order_count,
        case when order_count > 0 then cast(refunded_order_count as {{ type_ratio() }}) / order_count end
            as refunded_order_share,
        cast(rfm_order_count as {{ dbt.type_bigint() }}) as rfm_order_count,
        cast(rfm_spend as {{ type_money() }}) as rfm_spend,
        cast(category_count as {{ dbt.type_bigint() }}) as category_count,
        cast(session_count as {{ dbt.type_bigint() }}) as session_count,
        cast(page_views as {{ dbt.type_bigint() }}) as page_views,
        cast(feedback_count as {{ dbt.type_bigint() }}) as feedback_count,
        cast(complaint_count as {{ dbt.type_bigint() }}) as complaint_count,
        cast(average_nps_score as {{ type_ratio() }}) as average_nps_score,
        cast(latest_nps_score as {{ dbt.type_int() }}) as latest_nps_score,
        cast(average_rating as {{ type_ratio() }}) as average_rating,
        order_count > 0 as has_purchased,
        is_in_customer_master,
        is_guest,
        is_business,
        has_email_marketing_consent,
        has_sms_marketing_consent,
        has_phone_marketing_consent,
        has_post_marketing_consent,
        has_push_marketing_consent,
        has_any_marketing_consent,
        has_objected_to_profiling,
        as_of_date,
        birth_date,
        signup_date,
        customer_since_date,
        first_order_date,
        last_order_date,
        last_reactivation_date,
        signed_up_at,
        first_ordered_at,
        last_ordered_at,
        last_session_at,
        last_feedback_at,
        consent_updated_at
    from joined
)

select * from final

{#- Fails the run before anything is read when a var holds a value no build could use,
    naming the var and the value: a wrong threshold would otherwise quarantine every row
    (a negative max_order_amount) or switch a gate off without anyone noticing. -#}
{% macro check_vars() %}
    {%- set problems = [] -%}
    {#- Vars renamed when they were namespaced by area (2026-12): dbt ignores a var it does not
        know, so an old name would silently leave the default in force. -#}
    {%- set renamed_vars = {
        'churn_max_training_rows': 'churn.max_training_rows',
        'churn_random_seed': 'churn.random_seed',
        'churn_window_days': 'churn.window_days',
        'cluster_drift_max_centroid_shift': 'clusters.drift_max_centroid_shift',
        'cluster_drift_max_share_change': 'clusters.drift_max_share_change',
        'cluster_features': 'clusters.features',
        'cluster_k': 'clusters.k',
        'cluster_k_max': 'clusters.k_max',
        'cluster_k_min': 'clusters.k_min',
        'cluster_match_max_distance': 'clusters.match_max_distance',
        'cluster_random_seed': 'clusters.random_seed',
        'cluster_recency_cap_days': 'clusters.recency_cap_days',
        'cluster_sample_size': 'clusters.sample_size',
        'cluster_selection_sample_size': 'clusters.selection_sample_size',
        'cluster_share_prior_orders': 'clusters.share_prior_orders',
        'cluster_silhouette_sample_size': 'clusters.silhouette_sample_size',
        'cluster_winsor_quantile': 'clusters.winsor_quantile',
        'clv_annual_discount_rate': 'clv.annual_discount_rate',
        'clv_high_min_percentile': 'clv.high_min_percentile',
        'clv_horizon_days': 'clv.horizon_days',
        'clv_medium_min_percentile': 'clv.medium_min_percentile',
        'clv_time_unit': 'clv.time_unit',
        'data_quality_gates': 'quality.gates',
        'incremental_lookback_days': 'staging.lookback_days',
        'lifecycle_active_days': 'lifecycle.active_days',
        'lifecycle_churn_days': 'lifecycle.churn_days',
        'lifecycle_new_days': 'lifecycle.new_days',
        'load_timestamp': 'staging.load_timestamp',
        'max_order_amount': 'money.max_order_amount',
        'micro_segment_families': 'segments.micro_families',
        'micro_segment_min_size': 'segments.micro_min_size',
        'min_valid_date': 'staging.min_valid_date',
        'raw_data_dir': 'raw.data_dir',
        'raw_input_schema': 'raw.input_schema',
        'raw_read_options': 'raw.read_options',
        'raw_schema': 'raw.schema',
        'reporting_currency': 'money.reporting_currency',
        'rfm_window_days': 'rfm.window_days',
        'segment_drift_max_share_change': 'history.drift_max_share_change',
        'segment_params': 'segments.params',
        'segment_transition_period': 'history.transition_period',
        'source_max_age_days': 'quality.source_max_age_days',
        'source_timezone': 'staging.source_timezone',
        'time_spine_end': 'semantic.time_spine_end',
        'time_spine_start': 'semantic.time_spine_start'
    } -%}
    {%- set family_vars = ['value_high_min_spend_percentile', 'value_medium_min_spend_percentile', 'vip_min_spend_percentile', 'vip_min_frequency_percentile', 'vip_max_days_since_last_order', 'cherry_picker_min_orders', 'cherry_picker_min_discount_order_share', 'cherry_picker_min_discount_spend_share', 'full_price_min_orders', 'full_price_max_discount_order_share', 'charmed_return_days', 'charmed_min_nps_score', 'charmed_min_rating', 'occasion_min_orders', 'occasion_min_order_share', 'timing_min_orders', 'weekend_shopper_min_order_share', 'weekday_shopper_min_order_share', 'daypart_min_order_share', 'interest_min_category_spend_share', 'segment_families'] -%}
    {#- churn_risk_level is cut from the calibrated churn score since issue 21: the P(alive)
        and days-since-order thresholds mean nothing any more. -#}
    {%- set churn_risk_vars = ['churn.risk_high_max_p_alive', 'churn.risk_high_min_days_since_order', 'churn.risk_medium_max_p_alive', 'churn.risk_medium_min_days_since_order', 'churn_risk_high_max_p_alive', 'churn_risk_high_min_days_since_order', 'churn_risk_medium_max_p_alive', 'churn_risk_medium_min_days_since_order'] -%}
    {%- for old_name in churn_risk_vars if var.has_var(old_name) -%}
        {%- do problems.append('var ' ~ old_name ~ ' is gone: churn_risk_level is cut from the calibrated churn_score at the params high_min_score and medium_min_score of models/marts/segments/families/churn_risk.yml, overridden with var segments.params (docs/predictive-models.md)') -%}
    {%- endfor -%}
    {%- for old_name, new_name in renamed_vars.items() if var.has_var(old_name) -%}
        {%- do problems.append('var ' ~ old_name ~ ' was renamed ' ~ new_name) -%}
    {%- endfor -%}
    {%- for old_name in family_vars if var.has_var(old_name) -%}
        {%- do problems.append('var ' ~ old_name ~ ' is gone: segment families declare their thresholds as params in models/marts/segments/families/<family>.yml, overridden with var segments.params (docs/segments.md)') -%}
    {%- endfor -%}
    {%- set max_order_amount = var('money.max_order_amount') -%}
    {%- if max_order_amount is not number or max_order_amount <= 0 -%}
        {%- do problems.append('money.max_order_amount must be a positive number; got ' ~ max_order_amount) -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', var('staging.min_valid_date') | string) -%}
        {%- do problems.append('staging.min_valid_date must be a date (YYYY-MM-DD); got ' ~ var('staging.min_valid_date')) -%}
    {%- endif -%}
    {%- if var('staging.source_timezone') not in modules.pytz.all_timezones -%}
        {%- do problems.append('staging.source_timezone must be an IANA time zone name such as Europe/Berlin or UTC; got ' ~ var('staging.source_timezone')) -%}
    {%- endif -%}
    {%- set lookback = var('staging.lookback_days') -%}
    {%- if lookback is not number or lookback < 0 -%}
        {%- do problems.append('staging.lookback_days must be 0 or more; got ' ~ lookback) -%}
    {%- endif -%}
    {%- for name in ['identity.max_records_per_identifier', 'identity.max_group_size', 'identity.max_iterations', 'baskets.refit_every_days'] -%}
        {%- set value = var(name) -%}
        {%- if value is not number or value < 1 or value != value | int -%}
            {%- do problems.append(name ~ ' must be a whole number of at least 1; got ' ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set threshold = var('identity.match_threshold') -%}
    {%- if threshold is not number or threshold <= 0 or threshold > 1 -%}
        {%- do problems.append('identity.match_threshold must be a probability above 0 and at most 1; got ' ~ threshold) -%}
    {%- endif -%}
    {#- the names issue 22 used for the basket thresholds, namespaced like every other var -#}
    {%- for old_name, new_name in [('basket_min_support', 'baskets.min_support'), ('basket_min_confidence', 'baskets.min_confidence')] if var.has_var(old_name) -%}
        {%- do problems.append('var ' ~ old_name ~ ' is spelled ' ~ new_name) -%}
    {%- endfor -%}
    {%- for name in ['baskets.min_support', 'baskets.min_confidence'] -%}
        {%- set value = var(name) -%}
        {%- if value is not number or value <= 0 or value > 1 -%}
            {%- do problems.append(name ~ ' must be a share above 0 and at most 1; got ' ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['identity.probabilistic', 'identity.email_provider_rules'] if var(name) not in [true, false] -%}
        {%- do problems.append(name ~ ' must be true or false; got ' ~ var(name)) -%}
    {%- endfor -%}
    {%- set gates = var('quality.gates', {}) or {} -%}
    {%- set known_gate_keys = segment_warehouse.data_quality_gate_defaults().keys() | list -%}
    {%- set gate_scopes = [('quality.gates', gates)] -%}
    {%- for table_name, table_settings in (gates.get('tables') or {}).items() -%}
        {%- do gate_scopes.append(('quality.gates.tables.' ~ table_name, table_settings or {})) -%}
    {%- endfor -%}
    {%- for scope, settings in gate_scopes -%}
        {%- for key, value in settings.items() if key != 'tables' or scope != 'quality.gates' -%}
            {%- if key not in known_gate_keys -%}
                {%- do problems.append(scope ~ ' has an unknown key ' ~ key ~ '; known keys: ' ~ known_gate_keys | join(', ')) -%}
            {%- elif value is not number or value < 0 or value > 1 -%}
                {%- do problems.append(scope ~ '.' ~ key ~ ' must be a share between 0 and 1; got ' ~ value) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error('Invalid vars: ' ~ problems | join('; ')) }}
    {%- endif -%}
{% endmacro %}

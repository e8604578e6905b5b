{#- The open versions of segment_membership_history are exactly this run's
    customer_segment_assignments: no customer, family or segment more or less. -#}
with

current_versions as (
    select
        customer_id,
        segment_family,
        segment
    from {{ ref('segment_membership_history') }}
    where valid_to is null
),

assignments as (
    select
        customer_id,
        segment_family,
        segment
    from {{ ref('customer_segment_assignments') }}
),

only_in_history as (
    select * from current_versions
    except
    select * from assignments
),

only_in_assignments as (
    select * from assignments
    except
    select * from current_versions
)

select
    'only in history' as problem,
    only_in_history.*
from only_in_history
union all
select
    'only in assignments' as problem,
    only_in_assignments.*
from only_in_assignments

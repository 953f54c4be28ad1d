{#- The diagnosis tests' scale (int_diagnosis_rules_evaluated, docs/metrics.md "Diagnosis"), one definition for
    every group of observations compared (the team's window, its reference stretch, the other teams over
    either). Arguments are SQL expressions over sums from int_metric_observations_summed_weekly.

    diagnosis_test_mean: sum_per_week rules -> log of the weekly total per team, with half an average item as
    continuity correction; other rules -> the mean of the units' test values (log(1 + value) for median rules,
    the value for mean rules).
    diagnosis_test_se2: its squared standard error -> for a log total, compound Poisson by the delta method:
    (1 + CV^2) / events, where events are the units with a value above zero (units of value 0, e.g. blocked
    windows escalated in time, carry no mass: a stretch of six of them says little about the team's level)
    and CV^2 is the squared coefficient of variation of one event's value (`size_cv2`) over the whole
    organisation's observations of the metric, because a stretch's own sum of squares is dominated by its
    largest item (one long blocked window would make the stretch look unknowable); half an event is added as
    continuity correction (an empty stretch is a small, uncertain rate). Otherwise the units' variance / units,
    the variance moderated toward the organisation's (`prior_variance`, the pooled within-team variance of one
    unit of the rule's metric, worth `prior_df` units): (prior_df * prior + (units - 1) * sample variance) /
    (prior_df + units - 1), the moderated t of Smyth (2004, limma). A stretch of four team-weeks or five
    deployments estimates its own spread badly: alone, a lucky low spread makes a noisy stretch look certain
    (a false alarm) and a high one makes its t need 5 standard errors (a miss). -#}
{% macro diagnosis_test_mean(aggregation, value_sum, scaled_sum, units, weeks, half_item, teams='1') -%}
    case
        when {{ aggregation }} = 'sum_per_week'
            then ln(({{ value_sum }} + {{ half_item }}) / {{ weeks }} / nullif({{ teams }}, 0))
        else ({{ scaled_sum }}) / nullif({{ units }}, 0)
    end
{%- endmacro %}

{% macro diagnosis_test_se2(
    aggregation, scaled_sum, scaled_square_sum, units, events, size_cv2, prior_variance='0', prior_df='0'
) -%}
    case
        when {{ aggregation }} = 'sum_per_week'
            then (1 + {{ size_cv2 }}) / ({{ events }} + 0.5)
        when {{ units }} > 1 or ({{ units }} = 1 and ({{ prior_df }}) > 0)
            then
                (
                    ({{ prior_df }}) * coalesce({{ prior_variance }}, 0)
                    + greatest({{ scaled_square_sum }} - ({{ scaled_sum }}) ^ 2 / ({{ units }}), 0)
                )
                / (({{ prior_df }}) + ({{ units }}) - 1) / ({{ units }})
        else 0
    end
{%- endmacro %}

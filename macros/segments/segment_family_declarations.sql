{#- Generated from the family files (models/marts/segments/families/*.yml) by
    `make registry-docs`: the declarations as data, for contexts without dbt's
    graph (unit tests). Do not edit; segment_families stops a run when this
    differs from the family files. -#}
{% macro segment_family_declarations() %}
{%- set declarations -%}
[
  {
    "file": "models/marts/segments/families/age_band.yml",
    "raw": {
      "column": "age_band_segment",
      "description": "Age in completed years on as_of_date, from the birth date.",
      "family": "age_band",
      "group": "demographic",
      "metrics": [
        "age_years"
      ],
      "order": 12,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "24 or younger.",
          "priority": 1,
          "rule": "age_years < 25",
          "segment": "Under 25"
        },
        {
          "description": "25 to 34.",
          "priority": 2,
          "rule": "age_years < 35",
          "segment": "25-34"
        },
        {
          "description": "35 to 44.",
          "priority": 3,
          "rule": "age_years < 45",
          "segment": "35-44"
        },
        {
          "description": "45 to 54.",
          "priority": 4,
          "rule": "age_years < 55",
          "segment": "45-54"
        },
        {
          "description": "55 to 64.",
          "priority": 5,
          "rule": "age_years < 65",
          "segment": "55-64"
        },
        {
          "description": "65 or older.",
          "priority": 6,
          "rule": "age_years >= 65",
          "segment": "65+"
        },
        {
          "description": "No usable birth date.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/channel.yml",
    "raw": {
      "column": "channel_segment",
      "description": "The channel of most of the customer's purchases (ties - higher spend, then the name); Unknown when that is not recorded.\n",
      "family": "channel",
      "group": "channel",
      "metrics": [
        "preferred_channel",
        "channel_known_order_count",
        "order_count"
      ],
      "order": 23,
      "owner": "digital",
      "segments": [
        {
          "description": "web, app, phone, store, marketplace or other.",
          "priority": 1,
          "rule": "preferred_channel is not null",
          "segment": "Channel",
          "value": "preferred_channel"
        },
        {
          "description": "Purchases on record, but most of them without a recorded channel.",
          "priority": 2,
          "rule": "has_purchased",
          "segment": "Unknown",
          "unknown": true
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/charmed.yml",
    "raw": {
      "column": "charmed_segment",
      "description": "Whether a good experience - a high NPS answer, a high review rating or a resolved complaint (see int_customer_experiences_aggregated) - was followed by another purchase within return_days days. Needs the feedback source; customers without feedback are Unknown.\n",
      "family": "charmed",
      "group": "behaviour",
      "metrics": [
        "positive_experience_count",
        "charmed_experience_count",
        "days_since_last_positive_experience",
        "feedback_count"
      ],
      "order": 8,
      "owner": "customer-care",
      "params": {
        "min_nps_score": 9,
        "min_rating": 4,
        "return_days": 60
      },
      "segments": [
        {
          "description": "Bought again within return_days days after a positive experience.",
          "priority": 1,
          "rule": "charmed_experience_count > 0",
          "segment": "Charmed"
        },
        {
          "description": "The latest positive experience is so recent that the return window is still open.",
          "priority": 2,
          "rule": "days_since_last_positive_experience < {return_days}",
          "segment": "Awaiting return"
        },
        {
          "description": "Had a positive experience but did not buy again within the window.",
          "priority": 3,
          "rule": "positive_experience_count > 0",
          "segment": "Not returned"
        },
        {
          "description": "Gave feedback, none of it positive.",
          "priority": 4,
          "rule": "feedback_count > 0",
          "segment": "No positive experience"
        },
        {
          "description": "No feedback on record, so the experience is unknown.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/churn_risk.yml",
    "raw": {
      "column": "churn_risk_level",
      "description": "How likely the customer is to make no purchase in the next churn.window_days: the calibrated churn_score published by the churn champion (churn_model_evaluation), cut at high_min_score and medium_min_score. The reason quotes the score, the model that produced it and the customer's top drivers.\n",
      "family": "churn_risk",
      "group": "value",
      "metrics": [
        "churn_score",
        "churn_model",
        "churn_drivers"
      ],
      "order": 5,
      "owner": "crm-analytics",
      "params": {
        "high_min_score": 0.7,
        "medium_min_score": 0.4
      },
      "segments": [
        {
          "description": "Calibrated probability of no purchase in the churn window of at least high_min_score.",
          "priority": 1,
          "rule": "churn_score >= {high_min_score}",
          "segment": "High churn risk"
        },
        {
          "description": "Calibrated churn probability of at least medium_min_score, below high_min_score.",
          "priority": 2,
          "rule": "churn_score >= {medium_min_score}",
          "segment": "Medium churn risk"
        },
        {
          "description": "Calibrated churn probability below medium_min_score.",
          "priority": 3,
          "rule": "churn_score is not null",
          "segment": "Low churn risk"
        },
        {
          "description": "No purchase yet, or no churn candidate could be evaluated (churn_model_evaluation says why).",
          "fallback": true,
          "segment": "Not predicted"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/cluster.yml",
    "raw": {
      "column": "cluster_segment",
      "description": "Behavioural clusters found in the data by k-means (int_cluster_model; profiles in cluster_profiles), labelled from each cluster's most distinctive features. Ids stay stable across runs; the label is '<id>: <label>'.\n",
      "family": "cluster",
      "group": "clusters",
      "metrics": [
        "cluster_id",
        "cluster_squared_distance"
      ],
      "order": 22,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Labelled '<cluster id>: <label>', e.g. '5: in-store · few online orders · small baskets'.",
          "priority": 1,
          "rule": "cluster_id is not null",
          "segment": "Cluster",
          "value": "cluster_id || ': ' || cluster_label"
        },
        {
          "description": "No purchase yet, or no cluster model could be fitted.",
          "fallback": true,
          "segment": "Not clustered"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/company_size.yml",
    "raw": {
      "column": "company_size_segment",
      "description": "Size band of business accounts by employees (EU SME definition bands); consumers are Not a business.\n",
      "family": "company_size",
      "group": "firmographic",
      "metrics": [
        "is_business",
        "company_size"
      ],
      "order": 19,
      "owner": "b2b-sales",
      "segments": [
        {
          "description": "A consumer account.",
          "priority": 1,
          "rule": "not is_business",
          "segment": "Not a business"
        },
        {
          "description": "Fewer than 10 employees.",
          "priority": 2,
          "rule": "company_size < 10",
          "segment": "Micro (1-9)"
        },
        {
          "description": "10 to 49 employees.",
          "priority": 3,
          "rule": "company_size < 50",
          "segment": "Small (10-49)"
        },
        {
          "description": "50 to 249 employees.",
          "priority": 4,
          "rule": "company_size < 250",
          "segment": "Medium (50-249)"
        },
        {
          "description": "250 employees or more.",
          "priority": 5,
          "rule": "company_size >= 250",
          "segment": "Large (250+)"
        },
        {
          "description": "A business account without a company size.",
          "fallback": true,
          "segment": "Unknown size"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/country.yml",
    "raw": {
      "column": "country_segment",
      "description": "Country of the customer's address (ISO 3166-1 alpha-2).",
      "family": "country",
      "group": "geographic",
      "metrics": [
        "country_code"
      ],
      "order": 14,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "The ISO country code, e.g. DE.",
          "priority": 1,
          "rule": "country_code is not null",
          "segment": "Country",
          "value": "country_code"
        },
        {
          "description": "No address, or a country that could not be mapped.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/daypart.yml",
    "raw": {
      "column": "daypart_segment",
      "description": "The part of the day the customer usually buys in (UTC hours mapped in seeds/order_dayparts.csv), from the purchases whose time of day is known: a source whose timestamps carry no time (dates only, or every order at midnight) says nothing about it.\n",
      "family": "daypart",
      "group": "behaviour",
      "metrics": [
        "dominant_daypart",
        "dominant_daypart_share",
        "timed_order_count",
        "order_count"
      ],
      "order": 11,
      "owner": "merchandising",
      "params": {
        "min_order_share": 0.6,
        "min_orders": 3
      },
      "segments": [
        {
          "description": "Labelled '<daypart> buyer' (Morning, Afternoon, Evening, Night) when at least min_orders purchases carry a time of day and at least min_order_share of them fall in one part of the day.",
          "priority": 1,
          "rule": "timed_order_count >= {min_orders} and dominant_daypart_share >= {min_order_share}",
          "segment": "Daypart buyer",
          "value": "dominant_daypart || ' buyer'"
        },
        {
          "description": "Purchasers with a known time of day but no dominant part of the day.",
          "priority": 2,
          "rule": "timed_order_count > 0",
          "segment": "Any time"
        },
        {
          "description": "Purchases on record, none with a time of day (timed_order_count=0): the part of the day is unknown, not guessed.",
          "priority": 3,
          "rule": "has_purchased",
          "segment": "Unknown",
          "unknown": true
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/device.yml",
    "raw": {
      "column": "device_segment",
      "description": "The device type used in most of the customer's web sessions.",
      "family": "device",
      "group": "technographic",
      "metrics": [
        "primary_device_type",
        "session_count"
      ],
      "order": 17,
      "owner": "digital",
      "segments": [
        {
          "description": "mobile, desktop, tablet or another recorded device type.",
          "priority": 1,
          "rule": "primary_device_type is not null",
          "segment": "Device",
          "value": "primary_device_type"
        },
        {
          "description": "No web session linked to the customer.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/discount.yml",
    "raw": {
      "column": "discount_segment",
      "description": "Price sensitivity: how much of the customer's buying happens on discount or with a coupon. Needs a source that records discounts; without one the family says Unknown.\n",
      "family": "discount",
      "group": "behaviour",
      "metrics": [
        "discount_order_share",
        "discount_spend_share",
        "refunded_order_share",
        "discount_known_order_count",
        "order_count"
      ],
      "order": 7,
      "owner": "pricing",
      "params": {
        "cherry_picker_min_discount_order_share": 0.8,
        "cherry_picker_min_discount_spend_share": 0.1,
        "cherry_picker_min_orders": 3,
        "full_price_max_discount_order_share": 0.1,
        "full_price_min_orders": 2
      },
      "segments": [
        {
          "description": "No purchase yet.",
          "priority": 1,
          "rule": "not has_purchased",
          "segment": "No purchase"
        },
        {
          "description": "Purchases on record, but none from a source that records discounts (no order discount, coupon or line discount anywhere in it): full price or not is unknown, not guessed.",
          "priority": 2,
          "rule": "discount_known_order_count = 0",
          "segment": "Unknown",
          "unknown": true
        },
        {
          "description": "Buys (almost) only on promotion: at least cherry_picker_min_orders purchases, a share of discounted or couponed purchases of at least cherry_picker_min_discount_order_share, and discounts worth at least cherry_picker_min_discount_spend_share of the list price.",
          "priority": 3,
          "rule": "order_count >= {cherry_picker_min_orders} and discount_order_share >= {cherry_picker_min_discount_order_share} and discount_spend_share >= {cherry_picker_min_discount_spend_share}",
          "segment": "Cherry picker"
        },
        {
          "description": "Repeat buyer (full_price_min_orders purchases or more) who rarely uses a discount (share at most full_price_max_discount_order_share).",
          "priority": 4,
          "rule": "order_count >= {full_price_min_orders} and discount_order_share <= {full_price_max_discount_order_share}",
          "segment": "Full-price loyalist"
        },
        {
          "description": "Purchasers between the two, and anyone with too few purchases to tell.",
          "fallback": true,
          "segment": "Occasional discount user"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/gender.yml",
    "raw": {
      "column": "gender_segment",
      "description": "Gender as recorded, normalised with seeds/gender_codes.csv.",
      "family": "gender",
      "group": "demographic",
      "metrics": [
        "gender"
      ],
      "order": 13,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Recorded as female.",
          "priority": 1,
          "rule": "gender = 'female'",
          "segment": "Female"
        },
        {
          "description": "Recorded as male.",
          "priority": 2,
          "rule": "gender = 'male'",
          "segment": "Male"
        },
        {
          "description": "Recorded as diverse or non-binary.",
          "priority": 3,
          "rule": "gender = 'diverse'",
          "segment": "Diverse"
        },
        {
          "description": "Not recorded, or recorded as unknown.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/industry.yml",
    "raw": {
      "column": "industry_segment",
      "description": "Industry of business accounts, as recorded.",
      "family": "industry",
      "group": "firmographic",
      "metrics": [
        "is_business",
        "company_industry"
      ],
      "order": 20,
      "owner": "b2b-sales",
      "segments": [
        {
          "description": "A consumer account.",
          "priority": 1,
          "rule": "not is_business",
          "segment": "Not a business"
        },
        {
          "description": "The recorded industry, e.g. retail.",
          "priority": 2,
          "rule": "company_industry is not null",
          "segment": "Industry",
          "value": "company_industry"
        },
        {
          "description": "A business account without an industry.",
          "fallback": true,
          "segment": "Unknown industry"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/interest.yml",
    "raw": {
      "column": "interest_segment",
      "description": "Needs and interests from what the customer buys: the product category with the largest share of their line spend.\n",
      "family": "interest",
      "group": "needs",
      "metrics": [
        "top_category",
        "top_category_spend_share",
        "category_count"
      ],
      "order": 21,
      "owner": "merchandising",
      "params": {
        "min_category_spend_share": 0.5
      },
      "segments": [
        {
          "description": "Labelled 'Mostly <category>' when at least min_category_spend_share of the line spend went to one category.",
          "priority": 1,
          "rule": "top_category_spend_share >= {min_category_spend_share}",
          "segment": "Category enthusiast",
          "value": "'Mostly ' || top_category"
        },
        {
          "description": "Spend spread over several categories.",
          "priority": 2,
          "rule": "top_category is not null",
          "segment": "Broad interests"
        },
        {
          "description": "No order lines on record.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/language.yml",
    "raw": {
      "column": "language_segment",
      "description": "Preferred language (ISO 639-1), from the customer's locale.",
      "family": "language",
      "group": "cultural",
      "metrics": [
        "language_code",
        "locale"
      ],
      "order": 16,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "The language code, e.g. de.",
          "priority": 1,
          "rule": "language_code is not null",
          "segment": "Language",
          "value": "language_code"
        },
        {
          "description": "No locale recorded.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/lifecycle.yml",
    "raw": {
      "column": "lifecycle_stage",
      "description": "Where the customer is in their relationship with the company, from purchase dates (see customer_lifecycle).\n",
      "family": "lifecycle",
      "group": "lifecycle",
      "metrics": [
        "days_since_first_order",
        "days_since_last_order",
        "days_since_last_reactivation",
        "order_count"
      ],
      "order": 1,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Known customer without a purchase on or before as_of_date.",
          "priority": 1,
          "rule": "not has_purchased",
          "segment": "Prospect"
        },
        {
          "description": "First purchase less than lifecycle.new_days days ago.",
          "priority": 2,
          "rule": "days_since_first_order < {var:lifecycle.new_days}",
          "segment": "New"
        },
        {
          "description": "Came back after a lapse - a purchase after at least lifecycle.churn_days days without one - less than lifecycle.active_days days ago.",
          "priority": 3,
          "rule": "days_since_last_reactivation < {var:lifecycle.active_days}",
          "segment": "Reactivated"
        },
        {
          "description": "Last purchase less than lifecycle.active_days days ago.",
          "priority": 4,
          "rule": "days_since_last_order < {var:lifecycle.active_days}",
          "segment": "Active"
        },
        {
          "description": "Last purchase lifecycle.active_days to lifecycle.churn_days - 1 days ago.",
          "priority": 5,
          "rule": "days_since_last_order < {var:lifecycle.churn_days}",
          "segment": "At risk"
        },
        {
          "description": "Last purchase at least lifecycle.churn_days days ago.",
          "fallback": true,
          "segment": "Churned"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/occasion.yml",
    "raw": {
      "column": "occasion_segment",
      "description": "Whether the customer buys mainly for an occasion: gift holidays (Black Friday to Christmas Eve, Valentine's Day, Mother's Day) or summer, with the windows generated for every year of the data (int_occasion_windows_generated).\n",
      "family": "occasion",
      "group": "behaviour",
      "metrics": [
        "holiday_order_share",
        "summer_order_share",
        "order_count"
      ],
      "order": 9,
      "owner": "merchandising",
      "params": {
        "min_order_share": 0.8,
        "min_orders": 2
      },
      "segments": [
        {
          "description": "At least min_orders purchases and a share of at least min_order_share of them in a holiday window.",
          "priority": 1,
          "rule": "order_count >= {min_orders} and holiday_order_share >= {min_order_share}",
          "segment": "Holiday shopper"
        },
        {
          "description": "The same test for the summer window.",
          "priority": 2,
          "rule": "order_count >= {min_orders} and summer_order_share >= {min_order_share}",
          "segment": "Summer shopper"
        },
        {
          "description": "Purchasers whose buying is not concentrated on an occasion.",
          "priority": 3,
          "rule": "has_purchased",
          "segment": "Year-round shopper"
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/omnichannel.yml",
    "raw": {
      "column": "omnichannel_segment",
      "description": "Whether the customer buys online, in store, or both.",
      "family": "omnichannel",
      "group": "channel",
      "metrics": [
        "online_order_count",
        "store_order_count",
        "channel_known_order_count",
        "order_count"
      ],
      "order": 24,
      "owner": "digital",
      "segments": [
        {
          "description": "At least one online and one store purchase.",
          "priority": 1,
          "rule": "online_order_count > 0 and store_order_count > 0",
          "segment": "Omnichannel"
        },
        {
          "description": "Store purchases only.",
          "priority": 2,
          "rule": "store_order_count > 0",
          "segment": "Store only"
        },
        {
          "description": "Online purchases only (web, app, marketplace).",
          "priority": 3,
          "rule": "online_order_count > 0",
          "segment": "Online only"
        },
        {
          "description": "Purchases only by phone or through unmapped channels ('other').",
          "priority": 4,
          "rule": "channel_known_order_count > 0",
          "segment": "Other channels only"
        },
        {
          "description": "Purchases on record, none with a recorded channel: online, store or both is unknown, not guessed.",
          "priority": 5,
          "rule": "has_purchased",
          "segment": "Unknown",
          "unknown": true
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/operating_system.yml",
    "raw": {
      "column": "operating_system_segment",
      "description": "The operating system used in most of the customer's web sessions.",
      "family": "operating_system",
      "group": "technographic",
      "metrics": [
        "primary_operating_system",
        "session_count"
      ],
      "order": 18,
      "owner": "digital",
      "segments": [
        {
          "description": "e.g. iOS, Android, Windows, macOS.",
          "priority": 1,
          "rule": "primary_operating_system is not null",
          "segment": "Operating system",
          "value": "primary_operating_system"
        },
        {
          "description": "No web session linked to the customer.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/predicted_value.yml",
    "raw": {
      "column": "predicted_value_segment",
      "description": "Predicted value: the customer's lifetime value over the next clv.horizon_days (BG/NBD expected purchases times the Gamma-Gamma expected value, discounted at clv.annual_discount_rate; customer_value_predictions) ranked against all purchasers (clv_percentile, 0 = lowest, 1 = highest).\n",
      "family": "predicted_value",
      "group": "value",
      "metrics": [
        "clv_percentile",
        "predicted_clv",
        "p_alive"
      ],
      "order": 4,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Predicted CLV in the top share of purchasers (clv.high_min_percentile).",
          "priority": 1,
          "rule": "clv_percentile >= {var:clv.high_min_percentile}",
          "segment": "High predicted value"
        },
        {
          "description": "Predicted CLV between clv.medium_min_percentile and clv.high_min_percentile.",
          "priority": 2,
          "rule": "clv_percentile >= {var:clv.medium_min_percentile}",
          "segment": "Medium predicted value"
        },
        {
          "description": "The remaining purchasers with a prediction.",
          "priority": 3,
          "rule": "clv_percentile is not null",
          "segment": "Low predicted value"
        },
        {
          "description": "No purchase yet, or the lifetime-value models could not be fitted.",
          "fallback": true,
          "segment": "Not predicted"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/region.yml",
    "raw": {
      "column": "region_segment",
      "description": "Region (state, county or province) within the country of the address.",
      "family": "region",
      "group": "geographic",
      "metrics": [
        "country_code",
        "region"
      ],
      "order": 15,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Country code and region, e.g. 'DE - Berlin'.",
          "priority": 1,
          "rule": "country_code is not null and region is not null",
          "segment": "Region",
          "value": "country_code || ' - ' || region"
        },
        {
          "description": "No country or no region on the address.",
          "fallback": true,
          "segment": "Unknown"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/rfm.yml",
    "raw": {
      "column": "rfm_segment",
      "description": "Recency, frequency and monetary scores (1-5, relative to all purchasers; see customer_rfm) mapped to named segments.\n",
      "family": "rfm",
      "group": "value",
      "metrics": [
        "recency_score",
        "frequency_score",
        "monetary_score"
      ],
      "order": 2,
      "owner": "crm-analytics",
      "segments": [
        {
          "description": "Bought recently and often and spend the most.",
          "priority": 1,
          "rule": "recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4",
          "segment": "Champions"
        },
        {
          "description": "Buy regularly and spend well; not the most recent.",
          "priority": 2,
          "rule": "recency_score >= 3 and frequency_score >= 3 and monetary_score >= 3",
          "segment": "Loyal"
        },
        {
          "description": "Recent repeat buyers with room to spend more.",
          "priority": 3,
          "rule": "recency_score >= 4 and frequency_score >= 2",
          "segment": "Potential loyalists"
        },
        {
          "description": "One purchase and it was very recent.",
          "priority": 4,
          "rule": "recency_score = 5 and frequency_score = 1",
          "segment": "New customers"
        },
        {
          "description": "One fairly recent purchase.",
          "priority": 5,
          "rule": "recency_score = 4 and frequency_score = 1",
          "segment": "Promising"
        },
        {
          "description": "Repeat buyers whose recency is slipping to average.",
          "priority": 6,
          "rule": "recency_score = 3 and frequency_score >= 2",
          "segment": "Needs attention"
        },
        {
          "description": "A single purchase a while ago; fading.",
          "priority": 7,
          "rule": "recency_score = 3 and frequency_score = 1",
          "segment": "About to sleep"
        },
        {
          "description": "Used to buy often and spend the most; gone quiet.",
          "priority": 8,
          "rule": "recency_score <= 2 and frequency_score >= 4 and monetary_score >= 4",
          "segment": "Can't lose them"
        },
        {
          "description": "Repeat buyers who have not bought for a long time.",
          "priority": 9,
          "rule": "recency_score <= 2 and frequency_score >= 3",
          "segment": "At risk"
        },
        {
          "description": "Few purchases and a long time ago.",
          "priority": 10,
          "rule": "recency_score = 2 and frequency_score <= 2",
          "segment": "Hibernating"
        },
        {
          "description": "Few purchases and the longest ago.",
          "priority": 11,
          "rule": "recency_score = 1 and frequency_score <= 2",
          "segment": "Lost"
        },
        {
          "description": "No purchase, so no scores.",
          "fallback": true,
          "segment": "Prospect"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/shopping_day.yml",
    "raw": {
      "column": "shopping_day_segment",
      "description": "Weekend against weekday buying (ISO weekdays of the order date, UTC).",
      "family": "shopping_day",
      "group": "behaviour",
      "metrics": [
        "weekend_order_share",
        "order_count"
      ],
      "order": 10,
      "owner": "merchandising",
      "params": {
        "min_orders": 3,
        "weekday_min_order_share": 0.9,
        "weekend_min_order_share": 0.6
      },
      "segments": [
        {
          "description": "At least weekend_min_order_share of the purchases on Saturday or Sunday.",
          "priority": 1,
          "rule": "order_count >= {min_orders} and weekend_order_share >= {weekend_min_order_share}",
          "segment": "Weekend shopper"
        },
        {
          "description": "At least weekday_min_order_share of the purchases Monday to Friday.",
          "priority": 2,
          "rule": "order_count >= {min_orders} and weekend_order_share <= 1 - {weekday_min_order_share}",
          "segment": "Weekday shopper"
        },
        {
          "description": "Purchasers without a clear pattern, or with fewer than min_orders purchases.",
          "priority": 3,
          "rule": "has_purchased",
          "segment": "Any day"
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/value.yml",
    "raw": {
      "column": "value_segment",
      "description": "Historic value: the customer's net spend ranked against all purchasers (spend_percentile, 0 = lowest, 1 = highest).\n",
      "family": "value",
      "group": "value",
      "metrics": [
        "spend_percentile",
        "net_spend"
      ],
      "order": 3,
      "owner": "crm-analytics",
      "params": {
        "high_min_spend_percentile": 0.8,
        "medium_min_spend_percentile": 0.5
      },
      "segments": [
        {
          "description": "Net spend in the top share of purchasers (high_min_spend_percentile).",
          "priority": 1,
          "rule": "spend_percentile >= {high_min_spend_percentile}",
          "segment": "High value"
        },
        {
          "description": "Net spend between medium_min_spend_percentile and high_min_spend_percentile.",
          "priority": 2,
          "rule": "spend_percentile >= {medium_min_spend_percentile}",
          "segment": "Medium value"
        },
        {
          "description": "The remaining purchasers.",
          "priority": 3,
          "rule": "has_purchased",
          "segment": "Low value"
        },
        {
          "description": "No purchase yet.",
          "fallback": true,
          "segment": "No purchase"
        }
      ]
    }
  },
  {
    "file": "models/marts/segments/families/vip.yml",
    "raw": {
      "column": "vip_segment",
      "description": "Top spenders who are also frequent and recent. Thresholds are percentiles among purchasers, so they adapt to the currency and the size of the business.\n",
      "family": "vip",
      "group": "behaviour",
      "metrics": [
        "spend_percentile",
        "frequency_percentile",
        "order_count",
        "days_since_last_order"
      ],
      "order": 6,
      "owner": "crm-analytics",
      "params": {
        "max_days_since_last_order": 90,
        "min_frequency_percentile": 0.9,
        "min_spend_percentile": 0.97
      },
      "segments": [
        {
          "description": "Spend percentile at least min_spend_percentile, order-count percentile at least min_frequency_percentile and a purchase within the last max_days_since_last_order days.",
          "priority": 1,
          "rule": "spend_percentile >= {min_spend_percentile} and frequency_percentile >= {min_frequency_percentile} and days_since_last_order < {max_days_since_last_order}",
          "segment": "VIP"
        },
        {
          "description": "Spends and buys like a VIP but has not bought recently; worth a win-back.",
          "priority": 2,
          "rule": "spend_percentile >= {min_spend_percentile} and frequency_percentile >= {min_frequency_percentile}",
          "segment": "Lapsed VIP"
        },
        {
          "description": "Everyone else, prospects included.",
          "fallback": true,
          "segment": "Not VIP"
        }
      ]
    }
  }
]
{%- endset -%}
{{ return(fromjson(declarations)) }}
{% endmacro %}

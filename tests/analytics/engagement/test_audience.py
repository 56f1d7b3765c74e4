"""Audience: phone regions from the phonenumbers library, unique people, growth, segments."""

from __future__ import annotations

import pandas as pd

from cvre.analytics.engagement import audience


def _contacts():
    return pd.DataFrame({
        "contact_id": ["c1", "c2", "c3", "c4", "c5"],
        "phone": ["+33 6 12 34 56 78", "+33612345678", "+1 212 555 0123", "+44 20 7946 0958", None],
        "email": ["a@x.com", "A@X.com ", "b@x.com", "c@x.com", "d@x.com"],
        "attribute": ["VIP", "VIP", "Lead", "Churned", "Lead"],
        "created_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-08", "2024-02-01", "2024-02-02"]),
    })


def test_phone_regions():
    assert audience.phone_region("+33 6 12 34 56 78") == "FR"
    assert audience.phone_region("+1 212 555 0123") == "US"
    assert audience.phone_region("06 12 34 56 78", "FR") == "FR"
    assert audience.phone_region("not a phone") is None and audience.phone_region(None) is None


def test_duplicates_are_one_person_and_reach_counts_people():
    reach = audience.total_reach(_contacts(), pd.DataFrame({"contact_id": ["c1", "c3"]}), None)
    assert reach == {"contact_rows": 5, "unique_people": 4, "duplicates": 1, "reached_by_campaign_or_chat": 2}


def test_growth_geography_segments():
    monthly = audience.new_contacts(_contacts(), "month")
    assert monthly["new_contacts"].tolist() == [2, 2]
    assert audience.new_contacts(_contacts(), "week")["new_contacts"].sum() == 4
    filled = audience.new_contacts(_contacts(), "month", pd.Timestamp("2024-04-15"))
    assert filled["new_contacts"].tolist() == [2, 2, 0, 0]  # quiet months shown as zero, through the snapshot
    geo = audience.geography(_contacts()).set_index("region")
    assert geo.loc["FR", "contacts"] == 1 and geo.loc["GB", "contacts"] == 1 and geo.loc["unknown", "contacts"] == 1
    assert abs(geo["share"].sum() - 1) < 1e-12
    engagement = pd.DataFrame({"contact_id": ["c1", "c3", "c5"], "delivered": [10, 4, 6], "replied": [5, 1, 2]})
    seg = audience.segments(_contacts(), engagement).set_index("segment")
    assert seg.loc["VIP", "contacts"] == 1 and seg.loc["Lead", "reply_rate_per_delivered"] == 0.3

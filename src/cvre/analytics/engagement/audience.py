"""Growth and audience: unique reach, new contacts per day/week/month, geography, segments."""

from __future__ import annotations

import pandas as pd
import phonenumbers

PERIODS = {"day": "D", "week": "W", "month": "M"}


def phone_region(phone: str | None, default_region: str | None = None) -> str | None:
    """ISO region of a phone number: from the full number when valid, else from its country code."""
    if not isinstance(phone, str) or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, default_region)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region or phonenumbers.region_code_for_country_code(number.country_code)


def person_key(contacts: pd.DataFrame) -> pd.Series:
    """One key per person: the phone's digits, else the lower-cased e-mail, else the contact id."""
    key = pd.Series(pd.NA, index=contacts.index, dtype="string")
    if "phone" in contacts:
        key = contacts["phone"].astype("string").str.replace(r"\D", "", regex=True).replace("", pd.NA)
    if "email" in contacts:
        key = key.fillna(contacts["email"].astype("string").str.strip().str.lower())
    return key.fillna(contacts["contact_id"].astype("string"))


def unique_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """Contacts with duplicates of the same person (same phone or e-mail) dropped; the earliest kept."""
    order = contacts.sort_values("created_at", kind="stable") if "created_at" in contacts else contacts
    return order.loc[~person_key(order).duplicated()].reset_index(drop=True)


def total_reach(contacts: pd.DataFrame, messages: pd.DataFrame | None, chats: pd.DataFrame | None) -> dict:
    """Unique people across channels (contacts table, campaign recipients, chat customers)."""
    people = unique_contacts(contacts)
    reached = set()
    for frame in (messages, chats):
        if frame is not None and "contact_id" in frame:
            reached |= set(frame["contact_id"].dropna())
    return {"contact_rows": int(len(contacts)), "unique_people": int(len(people)),
            "duplicates": int(len(contacts) - len(people)),
            "reached_by_campaign_or_chat": int(people["contact_id"].isin(reached).sum())}


def new_contacts(contacts: pd.DataFrame, period: str, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """New unique people per day, week or month, every period from the first through `until` (zeros kept)."""
    created = unique_contacts(contacts)["created_at"].dropna()
    if created.empty:
        return pd.DataFrame({"period_start": pd.Series(dtype="datetime64[ns]"), "new_contacts": pd.Series(dtype=int)})
    periods = created.dt.to_period(PERIODS[period])
    last = max(periods.max(), pd.Timestamp(until).to_period(PERIODS[period])) if until is not None else periods.max()
    counts = periods.value_counts().reindex(pd.period_range(periods.min(), last), fill_value=0).sort_index()
    return pd.DataFrame({"period_start": counts.index.start_time, "new_contacts": counts.to_numpy()})


def geography(contacts: pd.DataFrame, default_region: str | None = None) -> pd.DataFrame:
    """Unique people per phone region (ISO code, via the `phonenumbers` library)."""
    people = unique_contacts(contacts)
    phones = people["phone"].astype("string") if "phone" in people else pd.Series(pd.NA, index=people.index)
    lookup = {p: phone_region(p, default_region) for p in phones.dropna().unique()}
    region = phones.map(lookup).fillna("unknown")
    out = region.value_counts().rename_axis("region").rename("contacts").reset_index()
    return out.assign(share=out["contacts"] / out["contacts"].sum())


def segments(contacts: pd.DataFrame, engagement: pd.DataFrame | None) -> pd.DataFrame:
    """Unique people per custom attribute (VIP, lead, ...) with their campaign reply rate."""
    people = unique_contacts(contacts)
    attribute = people["attribute"].astype("string").fillna("none") if "attribute" in people else "none"
    people = people.assign(segment=attribute)
    out = people.groupby("segment").size().rename("contacts").to_frame()
    if engagement is not None and len(engagement):
        e = people[["contact_id", "segment"]].merge(engagement[["contact_id", "delivered", "replied"]],
                                                     on="contact_id")
        sums = e.groupby("segment")[["delivered", "replied"]].sum()
        out = out.join((sums["replied"] / sums["delivered"]).rename("reply_rate_per_delivered"))
    return out.assign(share=out["contacts"] / out["contacts"].sum()).reset_index()

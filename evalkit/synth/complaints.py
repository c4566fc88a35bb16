"""Complaints: about popular and weaker apps, in a category that depends on the app (fees,
ads), handled within days (some late, some open), with a contact and a free text that
sometimes holds the complainant's personal data; the three planted complaints.

:func:`draw_complaints` draws from the ``complaints`` stream, in this order: app and category,
handling, contacts, texts, channel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import schema
from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.catalogue import CODES
from evalkit.synth.draws import choose, days, emails, int_text, objects, phones, resident_ids
from evalkit.synth.planted import APP_INDEX, PLANTED_APPS
from evalkit.synth.world import World

__all__ = ["draw_complaints"]


def draw_complaints(world: World, apps: Apps) -> pd.DataFrame:
    """The ``complaints`` table (``complaints`` stream), planted ones first, by id."""
    rng = world.rng("complaints")
    app, cat = _apps_and_categories(world, rng, apps)
    n = len(app)
    received, resolved, substantiated = _handling(world, rng, n)
    home = objects(list(CODES))[apps.home_idx[app]]
    contact, text = _contacts_and_texts(rng, cat, home)
    # ids sequential by date (planted complaints first)
    order = np.lexsort((app, received))
    cid = "C" + int_text(np.arange(n) + 101, 8)
    frame = pd.DataFrame({
        "complaint_id": cid,
        "app_id": apps.id[app][order],
        "received_on": received[order],
        "channel": choose(rng, N.CHANNELS, n, p=N.CHANNEL_P)[order],
        "category": objects(list(schema.COMPLAINT_CATEGORIES))[cat][order],
        "substantiated": substantiated[order],
        "resolved_on": resolved[order],
        "contact": contact[order],
        "text": text[order],
    })
    frame = pd.concat([_planted_complaints(world, apps), frame], ignore_index=True)
    frame["received_on"] = frame["received_on"].astype("datetime64[s]")
    frame["resolved_on"] = frame["resolved_on"].astype("datetime64[s]")
    return frame.sort_values("complaint_id", kind="stable").reset_index(drop=True)


def _apps_and_categories(world: World, rng: np.random.Generator, apps: Apps
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(app, category index) of every complaint: popular and weaker apps more often; fees
    complaints about charging apps, ads complaints about apps with ads."""
    n_apps = len(apps.id)
    n = round(world.size.complaints_per_app * n_apps)
    w = apps.popularity * np.exp(-0.6 * apps.quality)
    w[:len(PLANTED_APPS)] = 0.0
    app = rng.choice(n_apps, n, p=w / w.sum())
    cats = schema.COMPLAINT_CATEGORIES
    base = np.array([0.12, 0.08, 0.18, 0.16, 0.06, 0.28, 0.12])
    weights = np.broadcast_to(base, (n, len(cats))).copy()
    weights[:, 0] *= np.where(apps.fees[app], 3.0, 0.5)
    weights[:, 1] *= np.where(apps.ads[app], 4.0, 0.4)
    cum = np.cumsum(weights, axis=1)
    cat = (rng.random(n)[:, None] * cum[:, -1:] > cum).sum(axis=1)
    return app, cat


def _handling(world: World, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """(received day, resolved day or NaT, substantiated or NA) of every complaint: recent ones
    mostly open, most resolved within 12 working days, some late."""
    received = world.as_of - days(rng.integers(0, 730, n))
    recent = (world.as_of - received).astype(int) <= 21
    open_ = np.where(recent, rng.random(n) < 0.7, rng.random(n) < 0.02)
    delay = np.select([rng.random(n) < 0.08, rng.random(n) < 0.1],
                      [rng.integers(16, 46, n), rng.integers(13, 16, n)],
                      rng.integers(1, 13, n))
    resolved = np.busday_offset(received, delay, roll="forward")
    open_ |= resolved > world.as_of
    resolved = np.where(open_, np.datetime64("NaT"), resolved)
    substantiated = pd.array(np.where(open_, None, rng.random(n) < 0.42), dtype="boolean")
    return received, resolved, substantiated


def _contacts_and_texts(rng: np.random.Generator, cat: np.ndarray, home: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(contact, free text) of every complaint: a phone, a name and phone, an e-mail or
    nothing; a template of the category, sometimes with the complainant's personal data."""
    n = len(cat)
    phone = phones(rng, n)
    email = emails(rng, n)
    title = choose(rng, N.SURNAMES, n) + choose(rng, ("先生", "女士"), n)
    kind = rng.choice(4, n, p=[0.45, 0.2, 0.25, 0.1])
    contact = np.select([kind == 0, kind == 1, kind == 2],
                        [phone, title + " " + phone, email], "").astype(object)
    text = np.empty(n, dtype=object)
    for ci, c in enumerate(schema.COMPLAINT_CATEGORIES):
        m = np.flatnonzero(cat == ci)
        text[m] = choose(rng, N.COMPLAINT_TEXT[c], len(m))
    pd_kind = rng.choice(4, n, p=[0.88, 0.05, 0.04, 0.03])
    ids = resident_ids(rng, n, home)
    text = np.select([pd_kind == 1, pd_kind == 2, pd_kind == 3],
                     [text + "我的电话" + phone + "，请尽快回复。",
                      text + "孩子身份证号" + ids + "已经被要求上传。",
                      text + "邮箱：" + email], text).astype(object)
    return contact, text


def _planted_complaints(world: World, apps: Apps) -> pd.DataFrame:
    """C00000001–3: personal data in the text (a phone and an ID number, an e-mail); the
    second resolved late, the third open."""
    ugc = apps.id[APP_INDEX["ugc_no_review"]]
    fees = apps.id[APP_INDEX["mandated_fees"]]
    d = world.ago
    return pd.DataFrame({
        "complaint_id": ["C00000001", "C00000002", "C00000003"],
        "app_id": [ugc, fees, fees],
        "received_on": [d(90), d(150), d(5)],
        "channel": ["12345热线", "教育厅网站", "电子邮件"],
        "category": ["privacy", "fees", "forced_use"],
        "substantiated": pd.array([True, True, None], dtype="boolean"),
        "resolved_on": [np.busday_offset(d(90), 6, roll="forward"),
                        np.busday_offset(d(150), 25, roll="forward"), np.datetime64("NaT")],
        "contact": ["王女士 13912345678", "li.hua2024@163.com", "13800138000"],
        "text": [
            ("社区里有人公开了我孩子的信息，我的电话13912345678，孩子身份证号"
             "110101201003070011，请删除并处理。"),
            ("统一使用的家校通知应用要求购买会员才能查看作业，联系人张伟 13700000001，"
             "身份证440106198503150038。"),
            "班主任要求必须下载注册，否则不能提交作业。邮箱 li.hua2024@163.com",
        ],
    })

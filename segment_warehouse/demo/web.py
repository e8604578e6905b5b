"""Web sessions of one chunk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segment_warehouse.demo.columns import (
    _ids,
    _nulls_where,
    _pick,
    _scramble,
    _small_ints,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.identity import _web_number
from segment_warehouse.demo.personas import (
    _DUP_PROBABILISTIC,
    _P,
    _S_SESSIONS,
    ID_SPACE,
    SECONDS_PER_DAY,
)
from segment_warehouse.demo.reference import (
    _TRAFFIC_SOURCES,
    _TRAFFIC_WEIGHTS,
    _TRAFFIC_WEIGHTS_DEALS,
)


class _WebTables:
    """Web sessions of a chunk: mixed into the generator's _Chunk."""

    # -- web sessions -------------------------------------------------------------------------

    def web_sessions(self) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        rng = self.rng(_S_SESSIONS)
        n_people = self.n
        online = np.flatnonzero(self.o_channel < 2)
        extra = rng.poisson(0.5, online.size)
        # Sessions of prospects who browse without buying.
        prospect = np.flatnonzero((self.persona == _P["prospect"]) & (rng.random(n_people) < 0.3))
        prospect_sessions = 1 + rng.poisson(1.5, prospect.size)
        browse_person = np.repeat(prospect, prospect_sessions)
        browse_start = np.maximum(self.signup_secs[browse_person], self.cal.start_secs)
        browse_secs = browse_start + (
            rng.random(browse_person.size) * (self.cal.end_secs - browse_start)
        ).astype(np.int64)
        # Converting sessions, then sessions in the two weeks before an online order.
        extra_order = np.repeat(online, extra)
        order = np.concatenate([online, extra_order, np.full(browse_person.size, -1)])
        converting = np.zeros(order.size, dtype=bool)
        converting[: online.size] = True
        safe_order = np.maximum(order, 0)
        account = np.where(
            order >= 0,
            self.o_account[safe_order],
            np.concatenate([np.zeros(online.size + extra_order.size, np.int64), browse_person]),
        )
        person = self.person[account]
        gap = np.where(
            converting,
            rng.integers(60, 2400, order.size),
            rng.integers(3600, 14 * SECONDS_PER_DAY, order.size),
        )
        secs = np.maximum(
            np.where(order >= 0, self.o_secs[safe_order] - gap, 0), self.cal.start_secs
        )
        secs[online.size + extra_order.size :] = browse_secs
        logged_in = converting | (rng.random(order.size) < np.where(order >= 0, 0.5, 0.6))
        app = (order >= 0) & (self.o_channel[safe_order] == 1) & converting
        device = np.where(
            app,
            np.where(rng.random(order.size) < 0.9, 0, 2),
            rng.choice(3, size=order.size, p=[0.45, 0.45, 0.1]),
        )
        n_identified = order.size
        anonymous = rng.poisson(0.3 * n_identified)
        days = self.cal.sample_days(
            rng, "online", np.zeros(anonymous, np.int64), np.full(anonymous, self.cal.n_days - 1)
        )
        secs = np.concatenate([secs, self.cal.sample_seconds(rng, days, "online")])
        device = np.concatenate([device, rng.choice(3, size=anonymous, p=[0.55, 0.35, 0.1])])
        app = np.concatenate([app, np.zeros(anonymous, dtype=bool)])
        n = secs.size
        # Devices: a person's phone, computer and tablet each keep one anonymous id and
        # one operating system / browser.
        # A probabilistic duplicate account uses devices of its own, so that no web login
        # links it to its person.
        own_devices = self.is_secondary[account] & (self.dup_kind[account] == _DUP_PROBABILISTIC)
        device_owner = np.where(own_devices, account, person)
        device_number = np.concatenate(
            [
                self.numbers[device_owner] * 4 + device[:n_identified],
                10**11 + self.index * ID_SPACE + np.arange(anonymous),
            ]
        )
        anon_id = _ids("ck_", _web_number(device_number), 12)
        h = _scramble(device_number, 1000, 7)
        device_types = ("mobile", "desktop", "tablet")
        mobile_os = np.where(h % 100 < 55, 0, 1)  # iOS, Android
        desktop_os = np.select([h % 100 < 65, h % 100 < 95], [2, 3], 4)  # Windows, macOS, Linux
        os_index = np.where(device == 1, desktop_os, mobile_os)
        operating_systems = ("iOS", "Android", "Windows", "macOS", "Linux")
        browser = np.select(
            [app, os_index == 0, os_index == 1, os_index == 3],
            [0, 1, np.where(h // 100 < 8, 2, 3), np.where(h // 100 < 6, 1, 2)],
            np.select([h // 100 < 6, h // 100 < 8], [2, 4], 5),
        )
        browsers = ("Shop App", "Safari", "Chrome", "Samsung Internet", "Edge", "Firefox")
        persona = np.concatenate([self.persona[person], np.full(anonymous, _P["regular"])])
        deals = persona == _P["discount_driven"]
        source = np.where(
            deals,
            rng.choice(len(_TRAFFIC_SOURCES), size=n, p=_TRAFFIC_WEIGHTS_DEALS),
            rng.choice(len(_TRAFFIC_SOURCES), size=n, p=_TRAFFIC_WEIGHTS),
        )
        converting = np.concatenate([converting, np.zeros(anonymous, dtype=bool)])
        page_views = np.where(converting, 3 + rng.geometric(0.25, n), rng.geometric(0.35, n))
        session_account = np.concatenate([np.where(logged_in, account, -1), np.full(anonymous, -1)])
        session_order = np.concatenate(
            [np.where(converting[:n_identified], order, -1), np.full(anonymous, -1)]
        )
        self.device_truth = self.web_truth(
            device_owner,
            device[:n_identified],
            secs[:n_identified],
            session_account[:n_identified] >= 0,
            device_number[n_identified:],
        )
        customer_id = _nulls_where(
            self.customer_ids().take(pa.array(np.maximum(session_account, 0))),
            session_account < 0,
        )
        order_id = _nulls_where(
            self.order_ids().take(pa.array(np.maximum(session_order, 0))), session_order < 0
        )
        table = pa.table(
            {
                "session_id": self.keys("W", n),
                "started_at": _timestamps(secs, _styles(rng, n)),
                "anonymous_id": anon_id,
                "customer_id": customer_id,
                "device_type": _pick(device_types, device),
                "operating_system": _pick(operating_systems, os_index),
                "browser": _pick(browsers, browser),
                "traffic_source": _pick(_TRAFFIC_SOURCES, source),
                "page_views": _small_ints(page_views),
                "order_id": order_id,
            }
        )
        return table, session_account, session_order

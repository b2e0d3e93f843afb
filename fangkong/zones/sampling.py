"""The sampling plan of each level (核酸检测采样方式), as data: how the 2021 plan screens each
zone — 封控区 one person per tube, 管控区 ten to a tube, 防范区 twenty to a tube. Shown on the
zone pages; risk areas (风险区) have no plan of their own here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingPlan:
    pool_size: int
    words: str

    @property
    def label(self) -> str:
        return "单管单检" if self.pool_size == 1 else f"{self.pool_size}混1"


SAMPLING_PLANS = {
    "lockdown": SamplingPlan(1, "封控区:上门采样,单人单管"),
    "control": SamplingPlan(10, "管控区:10人一管混采"),
    "prevention": SamplingPlan(20, "防范区:20人一管混采"),
}

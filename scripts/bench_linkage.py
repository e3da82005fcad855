"""Benchmark the record-linkage engine (issue 7) against plain Splink, in the same run.

    PYTHONPATH=src python scripts/bench_linkage.py city --city /tmp/lk-city       # synthetic city + hard negatives
    PYTHONPATH=src python scripts/bench_linkage.py febrl                         # FEBRL3 / FEBRL4
    PYTHONPATH=src python scripts/bench_linkage.py incremental --master 1000000  # 10,000 new vs a 1M master
    PYTHONPATH=src python scripts/bench_linkage.py scale --persons 700000 --city DIR --system liangshi  # or splink

``city`` runs ``liangshi synth --persons 20000 --seed 2010 --today 2026-11-27 --out DIR`` first when DIR has
no extracts. Each section prints one JSON line per system with precision, recall, F1, B-cubed F1 and wall time;
``incremental`` also prints the peak resident memory of the process (run it on its own for that figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import random
import resource
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from liangshi.linkage import cluster, evaluate, score
from liangshi.linkage.api import ACCEPT, LinkRecord

# The date records are normalised as of (ID numbers born later are invalid): the synthetic city's --today.
TODAY = dt.date(2026, 11, 27)


def _report(
    section: str, system: str, truth: dict[str, str], clusters: dict[str, str], seconds: float
) -> None:
    s = evaluate.evaluate(truth, clusters)
    print(
        json.dumps(
            {
                "section": section,
                "system": system,
                "records": len(truth),
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "bcubed_f1": round(s.bcubed_f1, 4),
                "true_pairs": s.true_pairs,
                "predicted_pairs": s.predicted_pairs,
                "seconds": round(seconds, 2),
            }
        ),
        flush=True,
    )


def run_liangshi(
    records: list[LinkRecord], *, model: str = "expert", threshold: float = ACCEPT
) -> dict[str, str]:
    """The full liangshi pipeline (normalise, block, compare, score, cluster)."""
    frame = score.prepare(records, today=TODAY)
    if "min_probability" in inspect.signature(score.predict_frame).parameters:
        predictions = score.predict_frame(frame, model=model, min_probability=threshold)
    else:  # the engine before issue 19 (a baseline run with an older tree on PYTHONPATH)
        predictions = score.predict_frame(frame, model=model)
    return cluster.clusters(frame, predictions, threshold=threshold)


# ---------------------------------------------------------------------------------------------------------
# Plain Splink, set up as a careful user would
# ---------------------------------------------------------------------------------------------------------


DEBUG_MODEL = False


#: EM passes (blocking columns) of the plain Splink baseline: the tutorial's (birth date, name, ID) and the
#: one a careful user moves to after seeing the name pass train "same name" instead of "same person".
EM_PASSES: dict[str, tuple[tuple[str, ...], ...]] = {
    "tutorial": (("dob",), ("name_pinyin",), ("id_number",)),
    "careful": (("id_number",), ("dob",)),
}


def run_plain_splink(
    records: list[LinkRecord], *, threshold: float = ACCEPT, passes: str = "careful"
) -> dict[str, str]:
    """Splink with standard comparisons and EM training on lightly cleaned columns."""
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from pypinyin import lazy_pinyin
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)

    def clean(value: str | None) -> str | None:
        if value is None:
            return None
        text = "".join(unicodedata.normalize("NFKC", value).split())
        return text or None

    sexes = {"男": "1", "male": "1", "m": "1", "1": "1", "女": "2", "female": "2", "f": "2", "2": "2"}
    rows = []
    for r in records:
        name = clean(r.name)
        phone = "".join(ch for ch in (clean(r.phone) or "") if ch.isdigit())[-11:] or None
        rows.append(
            {
                "unique_id": r.record_id,
                "name": name,
                "name_pinyin": "".join(lazy_pinyin(name)).lower() if name else None,
                "id_number": (clean(r.id_number) or "").upper() or None,
                "dob_raw": clean(r.birth_date),
                "sex": sexes.get((clean(r.sex) or "").lower()),
                "phone": phone,
                "address": clean(r.address),
            }
        )
    df = pd.DataFrame(rows)
    dob = pd.to_datetime(df["dob_raw"], format="mixed", errors="coerce")
    df["dob"] = dob.dt.strftime("%Y-%m-%d").where(dob.notna(), None)
    df = df.drop(columns=["dob_raw"])
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.ExactMatch("name_pinyin"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.8]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name_pinyin", "dob"),
            block_on("phone"),
            block_on("dob"),
            block_on("name_pinyin"),
            block_on("address"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(DuckDBAPI().register(df), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name_pinyin", "dob")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for columns in EM_PASSES[passes]:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
    if DEBUG_MODEL:
        model = linker.misc.save_model_to_json()
        print("lambda", model["probability_two_random_records_match"])
        for c in model["comparisons"]:
            for lv in c["comparison_levels"]:
                print(
                    c["output_column_name"],
                    lv.get("label_for_charts"),
                    lv.get("m_probability"),
                    lv.get("u_probability"),
                )
    predictions = linker.inference.predict(threshold_match_probability=0.01, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    out = clusters.as_pandas_dataframe()
    return dict(zip(out["unique_id"].astype(str), out["cluster_id"].astype(str), strict=True))


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------


def section_city(city: Path) -> None:
    if not (city / "police_persons.csv").exists():
        subprocess.run(
            [sys.executable, "-m", "liangshi.cli.main", "synth", "--persons", "20000", "--seed", "2010",
             "--today", TODAY.isoformat(), "--out", str(city)],
            check=True,
        )  # fmt: skip
    records, truth = evaluate.city_benchmark(city)
    print(json.dumps({"section": "city", "benchmark": evaluate.truth_counts(truth)}), flush=True)
    clusters, seconds = _timed(run_liangshi, records)
    _report("city", "liangshi", truth, clusters, seconds)
    for passes in EM_PASSES:
        clusters, seconds = _timed(run_plain_splink, records, passes=passes)
        _report("city", f"plain_splink_{passes}", truth, clusters, seconds)


def section_scale(city: Path, persons: int, system: str) -> None:
    """One system on the city benchmark of ``persons`` (one system per process, so its peak memory is its own)."""
    if not (city / "police_persons.csv").exists():
        subprocess.run(
            [sys.executable, "-m", "liangshi.cli.main", "synth", "--persons", str(persons), "--seed", "2010",
             "--today", TODAY.isoformat(), "--out", str(city)],
            check=True,
        )  # fmt: skip
    (records, truth), build = _timed(evaluate.city_benchmark, city)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if system == "liangshi":
        clusters, seconds = _timed(run_liangshi, records)
    else:
        clusters, seconds = _timed(run_plain_splink, records, passes="careful")
    _report(f"scale-{len(records)}", system, truth, clusters, seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"section": "scale", "system": system, "records": len(records),
                      "benchmark_build_seconds": round(build, 1), "rss_before_linkage_mb": round(before),
                      "peak_rss_mb": round(peak)}), flush=True)  # fmt: skip


def section_febrl() -> None:
    for name in ("febrl3", "febrl4"):
        records, truth = getattr(evaluate, name)()
        clusters, seconds = _timed(run_liangshi, records)
        _report(name, "liangshi_expert", truth, clusters, seconds)
        clusters, seconds = _timed(run_liangshi, records, model="trained", threshold=0.9)
        _report(name, "liangshi_trained", truth, clusters, seconds)
        for passes in EM_PASSES:
            clusters, seconds = _timed(run_plain_splink, records, passes=passes)
            _report(name, f"plain_splink_{passes}", truth, clusters, seconds)


def synthetic_master(n: int, seed: int) -> tuple[list[LinkRecord], list[tuple[LinkRecord, int]]]:
    """``n`` master persons (one record each, person ids 1..n; 1 % twins) and their generator facts."""
    from liangshi.common.idnumber import compute_check_char
    from liangshi.synth import rules as R

    rng = random.Random(seed)
    issued: set[str] = set()
    regions = ["420702", "420703", "420704", *(R.OUTSIDE_COUNTIES.pick(rng) for _ in range(40))]
    records: list[LinkRecord] = []
    born = dt.date(1990, 1, 1)
    phone = address = name = ""
    sex = "1"
    for pid in range(1, n + 1):
        twin = pid > 1 and rng.random() < 0.01
        if twin:  # same birth date, phone and address, same surname, consecutive ID
            name = name[0] + R.person_name(rng, sex)[1:]
            sex = rng.choice("12")
        else:
            sex = rng.choice("12")
            name = R.person_name(rng, sex)
            born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 95 * 365))
            phone = R.mobile_phone(rng) if rng.random() < 0.85 else ""
            address = (
                f"湖北省鄂州市{R.COMMUNITY_STEMS[rng.randrange(len(R.COMMUNITY_STEMS))]}"
                f"{'村' if rng.random() < 0.5 else '社区'}{rng.randint(1, 12)}组{rng.randint(1, 99)}号"
            )
        region = rng.choice(regions)
        while True:
            first17 = f"{region}{born:%Y%m%d}{R.id_sequence(rng, sex):03d}"
            if first17 not in issued:
                issued.add(first17)
                break
        records.append(
            LinkRecord(
                record_id=f"m{pid}",
                source="police",
                name=name,
                sex=sex,
                birth_date=born.isoformat(),
                id_number=first17 + compute_check_char(first17),
                phone=phone or None,
                address=address,
                person_id=pid,
            )
        )
    return records, []


def section_incremental(size: int, new: int, cache: Path | None) -> None:
    import opencc
    import pandas as pd

    from liangshi.linkage.evaluate import _copy, _Person
    from liangshi.linkage.master import MasterIndex, prepare_master

    rng = random.Random(11)
    (master, _), gen_seconds = _timed(synthetic_master, size + new // 2, 3)
    existing, fresh = master[:size], master[size:]
    s2t = opencc.OpenCC("s2t")
    batch: list[LinkRecord] = []
    truth: dict[str, int | None] = {}
    sample = rng.sample(existing, new - len(fresh))
    for i, r in enumerate([*sample, *fresh]):
        assert r.id_number and r.name and r.birth_date and r.sex
        person = _Person(r.id_number, r.id_number, r.name, r.sex, dt.date.fromisoformat(r.birth_date),
                         r.phone or "", r.address or "")  # fmt: skip
        batch.append(_copy(rng, person, f"n{i}", s2t))
        truth[f"n{i}"] = r.person_id if r.person_id is not None and r.person_id <= size else None
    # Normalising the master is a one-off (the master person index stores the prepared frame).
    cached = cache / f"master-{size}.parquet" if cache else None
    if cached and cached.exists():
        prepared, prepare_seconds = _timed(pd.read_parquet, cached)
        prepare_note = "read from cache"
    else:
        prepared, prepare_seconds = _timed(prepare_master, existing, today=TODAY)
        prepare_note = "normalised"
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            prepared.to_parquet(cached)
    index, load_seconds = _timed(MasterIndex, prepared, today=TODAY)
    start, cpu_start = time.perf_counter(), time.process_time()
    new_frame = score.prepare(batch, today=TODAY)
    normalise_seconds = time.perf_counter() - start
    result = index.match_frame(new_frame)
    match_seconds = time.perf_counter() - start
    match_cpu_seconds = time.process_time() - cpu_start
    # The master person index's policy: link when exactly one person is at/above ACCEPT; two or more such
    # persons (namesakes sharing a birth date, no ID number on the new record) go to review like the band.
    linked = {
        rid: c[0].person_id
        for rid, c in result.items()
        if c and c[0].probability >= ACCEPT and (len(c) == 1 or c[1].probability < ACCEPT)
    }
    ambiguous = sum(1 for c in result.values() if len(c) > 1 and c[1].probability >= ACCEPT)
    review = sum(1 for rid, c in result.items() if c and c[0].probability < ACCEPT) + ambiguous
    correct = sum(1 for rid, pid in linked.items() if truth[rid] == pid)
    should = sum(1 for pid in truth.values() if pid is not None)
    # Stability: existing records matched again against the index must come back with their own person id.
    recheck = rng.sample(existing, 10_000)
    again, recheck_seconds = _timed(index.match, recheck)
    same = sum(1 for r in recheck if again[r.record_id] and again[r.record_id][0].person_id == r.person_id)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "section": "incremental",
                "master": size,
                "new": len(batch),
                "generate_seconds": round(gen_seconds, 1),
                "master_prepare_seconds": round(prepare_seconds, 1),
                "master_prepare": prepare_note,
                "index_load_seconds": round(load_seconds, 1),
                "match_seconds_incl_normalise": round(match_seconds, 2),
                "normalise_new_seconds": round(normalise_seconds, 2),
                "match_cpu_seconds_all_threads": round(match_cpu_seconds, 2),
                "auto_linked": len(linked),
                "auto_link_precision": round(correct / len(linked), 4) if linked else None,
                "auto_link_recall": round(correct / should, 4) if should else None,
                "to_review": review,
                "ambiguous_two_persons_above_accept": ambiguous,
                "recheck_seconds": round(recheck_seconds, 2),
                "existing_ids_unchanged": round(same / len(recheck), 5),
                "peak_rss_mb": round(peak_mb),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("section", choices=("city", "febrl", "incremental", "scale"))
    parser.add_argument("--persons", type=int, default=700_000, help="scale: persons in the synthetic city")
    parser.add_argument("--system", choices=("liangshi", "splink"), default="liangshi")
    parser.add_argument("--city", type=Path, default=Path("/tmp/liangshi-bench-city"))
    parser.add_argument("--master", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, default=None, help="Keep the normalised master here (parquet)")
    args = parser.parse_args()
    if args.section == "city":
        section_city(args.city)
    elif args.section == "febrl":
        section_febrl()
    elif args.section == "scale":
        section_scale(args.city, args.persons, args.system)
    else:
        section_incremental(args.master, args.new, args.cache)


if __name__ == "__main__":
    main()

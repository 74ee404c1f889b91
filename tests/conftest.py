import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Hypothesis profiles (the fuzz suite, tests/test_fuzz.py, scales its example counts by them):
#   quick      default: deterministic (derandomized, no example database), no deadline
#   fuzz-long  pytest -m fuzz --hypothesis-profile=fuzz-long: 1,000 examples per test, random seed, shrinking
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("quick", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz-long", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=list(HealthCheck))
settings.load_profile("quick")

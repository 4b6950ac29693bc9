"""`stackbox identity ...`: identity maintenance an operator runs by hand."""
import sys

from undercloud.common.secrets import token_keys_dir
from undercloud.identity import keys


def rotate_keys(config, max_active_keys: int = keys.MAX_ACTIVE_KEYS) -> int:
    """Promote the staged token key; running API processes pick it up within seconds."""
    directory = token_keys_dir(config)
    if not keys.key_files(directory):
        print(f"stackbox: no token keys in {directory}; start `stackbox serve` once to "
              "create them", file=sys.stderr)
        return 1
    try:
        primary = keys.rotate(directory, max_active_keys)
    except (OSError, ValueError) as exc:
        print(f"stackbox: cannot rotate the token keys in {directory}: {exc}", file=sys.stderr)
        return 1
    active = sorted(keys.key_files(directory))
    print(f"Rotated the token keys in {directory}: key {primary} is now primary; "
          f"active keys {', '.join(map(str, active))} (0 is staged). Tokens issued with "
          "a pruned key no longer validate.")
    return 0

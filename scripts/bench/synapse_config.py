"""Turns Synapse's generated config into the benchmark's: loopback listener,
the shared Postgres, open registration, and rate limits so high that the
benchmark measures throughput rather than the limiter."""
import argparse

import yaml

def high():
    return {"per_second": 1000000, "burst_count": 1000000}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="generated homeserver.yaml, rewritten in place")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--db", required=True)
    a = p.parse_args()
    with open(a.config) as f:
        cfg = yaml.safe_load(f)
    cfg["listeners"] = [{
        "port": a.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
        "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
    }]
    cfg["database"] = {"name": "psycopg2", "args": {
        "user": "myelin", "password": "myelin", "dbname": a.db, "host": "127.0.0.1",
        "port": a.pg_port, "cp_min": 5, "cp_max": 10}}
    cfg.update({
        "enable_registration": True,
        "enable_registration_without_verification": True,
        "report_stats": False,
        "trusted_key_servers": [],  # nothing leaves the machine
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "rc_message": high(), "rc_registration": high(),
        "rc_registration_token_validity": high(),
        "rc_login": {"address": high(), "account": high(), "failed_attempts": high()},
        "rc_joins": {"local": high(), "remote": high()}, "rc_joins_per_room": high(),
        "rc_invites": {"per_room": high(), "per_user": high(), "per_issuer": high()},
        "rc_3pid_validation": high(), "rc_admin_redaction": high(),
        "rc_room_creation": high(), "rc_presence": {"per_user": high()},
        "rc_delayed_event_mgmt": high(), "rc_reports": high(),
        "rc_federation": {"window_size": 1000, "sleep_limit": 1000000, "sleep_delay": 0,
                          "reject_limit": 1000000, "concurrent": 1000000},
        # Repeated identical /sync requests would otherwise be answered from a
        # 2-minute response cache, and the initial-sync figures would measure it.
        "caches": {**(cfg.get("caches") or {}), "sync_response_cache_duration": 0},
    })
    with open(a.config, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


if __name__ == "__main__":
    main()

"""Turns Synapse's generated config into the one the project's scripts run:
a loopback client listener, the shared Postgres, open registration with a
shared secret, rate limits so high that they never throttle a test or the
benchmark and, with --federation-port, a TLS federation listener that talks
to other servers on loopback with certificate checks off."""
import argparse

import yaml


def high():
    return {"per_second": 1000000, "burst_count": 1000000}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="generated homeserver.yaml, rewritten in place")
    p.add_argument("--port", type=int, required=True, help="plain HTTP client listener")
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--shared-secret", required=True, help="registration_shared_secret")
    p.add_argument("--federation-port", type=int, help="TLS federation listener (the server name's port)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
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
        "registration_shared_secret": a.shared_secret,
        "report_stats": False,
        "trusted_key_servers": [],  # nothing leaves the machine
        "suppress_key_server_warning": True,
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
        # 2-minute response cache.
        "caches": {**(cfg.get("caches") or {}), "sync_response_cache_duration": 0},
    })
    if a.federation_port:
        cfg["listeners"].append({
            "port": a.federation_port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": True,
            "x_forwarded": False, "resources": [{"names": ["federation"], "compress": False}],
        })
        cfg.update({
            "tls_certificate_path": a.tls_cert,
            "tls_private_key_path": a.tls_key,
            "federation_verify_certificates": False,
            # Peers live on loopback, which Synapse refuses by default.
            "ip_range_whitelist": ["127.0.0.0/8", "::1/128"],
            "allow_public_rooms_over_federation": True,
        })
    else:
        cfg["federation_domain_whitelist"] = []  # no federation at all
    with open(a.config, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


if __name__ == "__main__":
    main()

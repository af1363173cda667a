//! The one reading of a database URL, as libpq reads it (the workers hand the same URL to
//! libpq): `postgres[ql]://[user[:password]@][host][:port][/dbname][?param=value&...]`, where
//! the query may set `host`, `port`, `user`, `password`, `dbname` and the other connection
//! parameters. `postgresql://u:pw@/db?host=127.0.0.1&port=5432` is a valid URL here as it
//! is for libpq.

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The parameters this parser hands to the connection: libpq's names.
const APPLIED: [&str; 12] = [
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "options",
];

/// libpq parameters that are accepted and have no effect on the orchestrator's connections.
const IGNORED: [&str; 12] = [
    "connect_timeout",
    "client_encoding",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "target_session_attrs",
    "gssencmode",
    "sslcompression",
    "sslpassword",
];

/// Query parameters whose value is a secret (redact.rs masks them).
pub const SECRET_PARAMS: [&str; 2] = ["password", "sslpassword"];

/// A URL taken apart, every component percent-decoded; query parameters win over the
/// authority and path, as in libpq.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ConnInfo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
    pub application_name: Option<String>,
    pub options: Option<String>,
}

/// Takes the URL apart; the error never contains a value from it (it may be a password).
pub fn parse(url: &str) -> Result<ConnInfo, String> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or("it must start with postgres:// or postgresql://")?;
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let mut info = ConnInfo::default();
    let hostspec = match authority.rsplit_once('@') {
        Some((userinfo, hostspec)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            info.user = non_empty(decode(user, "user")?);
            info.password = password.map(|p| decode(p, "password")).transpose()?;
            hostspec
        }
        None => authority,
    };
    if hostspec.contains(',') {
        return Err("several hosts in one URL are not supported".into());
    }
    let (host, port) = split_host_port(hostspec)?;
    info.host = non_empty(decode(host, "host")?);
    info.port = port.map(parse_port).transpose()?;
    info.dbname = non_empty(decode(path, "dbname")?);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("query parameter {:?} has no value", truncate(pair)))?;
        let key = decode(key, "a query parameter name")?;
        let value = decode(value, &key)?;
        apply(&mut info, &key, value)?;
    }
    Ok(info)
}

/// The connection options of a URL, or why it cannot be used (never showing its values).
pub fn options(url: &str) -> Result<PgConnectOptions, String> {
    parse(url)?.connect_options()
}

fn apply(info: &mut ConnInfo, key: &str, value: String) -> Result<(), String> {
    if IGNORED.contains(&key) {
        return Ok(());
    }
    if !APPLIED.contains(&key) {
        return Err(format!("unknown connection parameter {:?}", truncate(key)));
    }
    let slot = match key {
        "host" | "hostaddr" => &mut info.host,
        "port" => {
            info.port = Some(parse_port(&value)?);
            return Ok(());
        }
        "user" => &mut info.user,
        "password" => &mut info.password,
        "dbname" => &mut info.dbname,
        "sslmode" => &mut info.sslmode,
        "sslrootcert" => &mut info.sslrootcert,
        "sslcert" => &mut info.sslcert,
        "sslkey" => &mut info.sslkey,
        "application_name" => &mut info.application_name,
        _ => &mut info.options,
    };
    *slot = Some(value);
    Ok(())
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(hostspec: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(v6) = hostspec.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        return match after {
            "" => Ok((host, None)),
            _ => after
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or_else(|| "unexpected text after the host".into()),
        };
    }
    Ok(match hostspec.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostspec, None),
    })
}

fn parse_port(port: &str) -> Result<u16, String> {
    port.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("port must be between 1 and 65535, got {:?}", truncate(port)))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Percent-decoding; `what` names the component in the error.
fn decode(s: &str, what: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {what}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{what} is not valid UTF-8"))
}

/// Percent-decoding that never fails (bad escapes stay as they are), for names.
pub fn decode_lossy(s: &str) -> String {
    decode(s, "").unwrap_or_else(|_| s.to_string())
}

impl ConnInfo {
    /// sqlx's options for this URL (libpq's environment variables and ~/.pgpass fill what
    /// the URL leaves out, as they do for libpq).
    pub fn connect_options(&self) -> Result<PgConnectOptions, String> {
        let mut options = PgConnectOptions::new();
        if let Some(host) = &self.host {
            options = if host.starts_with('/') {
                options.socket(host)
            } else {
                options.host(host)
            };
        }
        if let Some(port) = self.port {
            options = options.port(port);
        }
        if let Some(user) = &self.user {
            options = options.username(user);
        }
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        if let Some(dbname) = &self.dbname {
            options = options.database(dbname);
        }
        if let Some(mode) = &self.sslmode {
            let mode: PgSslMode = mode
                .parse()
                .map_err(|_| format!("unknown sslmode {:?}", truncate(mode)))?;
            options = options.ssl_mode(mode);
        }
        if let Some(path) = &self.sslrootcert {
            options = options.ssl_root_cert(path);
        }
        if let Some(path) = &self.sslcert {
            options = options.ssl_client_cert(path);
        }
        if let Some(path) = &self.sslkey {
            options = options.ssl_client_key(path);
        }
        if let Some(name) = &self.application_name {
            options = options.application_name(name);
        }
        if let Some(opts) = &self.options {
            options = options.options(parse_options(opts)?);
        }
        Ok(options)
    }
}

/// libpq's `options` (`-c name=value ...`) as name/value pairs.
fn parse_options(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        let setting = match word {
            "-c" => words.next().ok_or("options: -c without a setting")?,
            w => w
                .strip_prefix("-c")
                .or_else(|| w.strip_prefix("--"))
                .ok_or("options must be -c name=value settings")?,
        };
        let (name, value) = setting
            .split_once('=')
            .ok_or("options must be -c name=value settings")?;
        pairs.push((name.replace('-', "_"), value.to_string()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_authority_form() {
        let info = parse("postgres://bob:s%40cret@db.example:6543/app").unwrap();
        assert_eq!(info.user.as_deref(), Some("bob"));
        assert_eq!(info.password.as_deref(), Some("s@cret"));
        assert_eq!(info.host.as_deref(), Some("db.example"));
        assert_eq!(info.port, Some(6543));
        assert_eq!(info.dbname.as_deref(), Some("app"));
    }

    #[test]
    fn reads_an_empty_host_with_query_parameters_like_libpq() {
        let info = parse("postgresql://u:pw@/db?host=127.0.0.1&port=5433").unwrap();
        assert_eq!(info.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(info.port, Some(5433));
        assert_eq!(info.password.as_deref(), Some("pw"));
        let options = info.connect_options().unwrap();
        assert_eq!(options.get_host(), "127.0.0.1");
        assert_eq!(options.get_port(), 5433);
        assert_eq!(options.get_database(), Some("db"));
    }

    #[test]
    fn reads_ipv6_sockets_and_query_credentials() {
        let info = parse("postgres://[::1]:5000/x?user=u&password=p%26q&sslmode=disable").unwrap();
        assert_eq!(info.host.as_deref(), Some("::1"));
        assert_eq!(info.password.as_deref(), Some("p&q"));
        let info = parse("postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql").unwrap();
        assert_eq!(info.host.as_deref(), Some("/var/run/postgresql"));
        assert!(info.connect_options().is_ok());
    }

    #[test]
    fn refusals_never_show_values() {
        let err = parse("mysql://u:secret@h/d").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
        let err = parse("postgres://h/d?bogus=secret").unwrap_err();
        assert!(err.contains("bogus") && !err.contains("secret"), "{err}");
        let err = parse("postgres://h:99999/d").unwrap_err();
        assert!(err.contains("port"), "{err}");
        assert!(parse("postgres://a,b/d").is_err());
        assert!(parse("postgres://h/d?sslpassword=x&connect_timeout=3").is_ok());
    }

    #[test]
    fn reads_libpq_options() {
        let info = parse("postgres://h/d?options=-c%20statement_timeout%3D5s").unwrap();
        assert!(info.connect_options().is_ok());
        let info = parse("postgres://h/d?options=nonsense").unwrap();
        assert!(info.connect_options().is_err());
    }
}

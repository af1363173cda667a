//! The one redaction of a database URL: the password in its userinfo and the value of every
//! secret query parameter (conninfo::SECRET_PARAMS) become `***`. Every log line, status,
//! error and inspect that shows a URL shows it through here (Ruby: TaskerCore.redact_url).

use super::conninfo::SECRET_PARAMS;

const MASK: &str = "***";

pub fn redact_url(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = redact_userinfo(before_query);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_query(query));
    }
    out
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority = rest.split('/').next().unwrap_or(rest);
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    match authority[..at].find(':') {
        Some(colon) => format!(
            "{}{}:{MASK}{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret(key) => format!("{key}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Case and percent-encoding do not hide a parameter's name.
fn is_secret(key: &str) -> bool {
    let decoded = super::conninfo::decode_lossy(key).to_ascii_lowercase();
    SECRET_PARAMS.contains(&decoded.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_userinfo_password_only() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db:5432/x"),
            "postgres://bob:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        assert_eq!(
            redact_url("postgres://bob:p@ss@db/x"),
            "postgres://bob:***@db/x"
        );
    }

    #[test]
    fn masks_secret_query_parameters() {
        assert_eq!(
            redact_url("postgresql://h/db?user=u&password=s3cret&sslmode=disable"),
            "postgresql://h/db?user=u&password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://u:a@/db?host=h&sslpassword=k&PASSWORD=x&pass%77ord=y"),
            "postgresql://u:***@/db?host=h&sslpassword=***&PASSWORD=***&pass%77ord=***"
        );
    }

    #[test]
    fn leaves_urls_without_secrets_alone() {
        for url in ["not a url", "postgres://h/db?x=1&y", ""] {
            assert_eq!(redact_url(url), url);
        }
    }
}

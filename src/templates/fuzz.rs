//! Property tests of the template parser: it never panics on any input, accepts every
//! acyclic step graph, and rejects every graph with a cycle.

use proptest::prelude::*;
use serde_json::json;

use super::parse_and_validate;

fn template(steps: Vec<serde_json::Value>) -> String {
    json!({"namespace": "fuzz", "name": "dag", "version": "1", "steps": steps}).to_string()
}

fn step(i: usize, deps: &[usize]) -> serde_json::Value {
    let deps: Vec<String> = deps.iter().map(|d| format!("s{d}")).collect();
    json!({"name": format!("s{i}"), "handler": "Fuzz::Step", "depends_on": deps})
}

/// Steps 0..n where each edge (a, b) with a < b makes b depend on a: always acyclic.
fn dag(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut deps = vec![Vec::new(); n];
    for &(a, b) in edges {
        let (a, b) = (a % n, b % n);
        if a < b && !deps[b].contains(&a) {
            deps[b].push(a);
        }
    }
    deps
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z_]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                "(namespace|name|version|steps|handler|depends_on|[a-z]{1,5})",
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_text(text in ".{0,300}") {
        let _ = parse_and_validate(&text);
    }

    #[test]
    fn never_panics_on_json_shapes(value in json_value()) {
        let _ = parse_and_validate(&value.to_string());
    }

    #[test]
    fn accepts_every_dag(n in 1usize..40, edges in prop::collection::vec((0usize..40, 0usize..40), 0..80)) {
        let deps = dag(n, &edges);
        let steps = deps.iter().enumerate().map(|(i, d)| step(i, d)).collect();
        prop_assert!(parse_and_validate(&template(steps)).is_ok());
    }

    #[test]
    fn rejects_every_cycle(n in 2usize..40, edges in prop::collection::vec((0usize..40, 0usize..40), 0..80),
                           from in 0usize..40, to in 0usize..40) {
        let mut deps = dag(n, &edges);
        let (lo, hi) = ((from.min(to)) % n, (from.max(to)) % n);
        prop_assume!(lo < hi);
        // hi -> lo is a path (chain it), then lo depends on hi: a cycle.
        for (i, d) in deps.iter_mut().enumerate().take(hi + 1).skip(lo + 1) {
            if !d.contains(&(i - 1)) {
                d.push(i - 1);
            }
        }
        deps[lo].push(hi);
        let steps = deps.iter().enumerate().map(|(i, d)| step(i, d)).collect();
        let err = parse_and_validate(&template(steps)).unwrap_err().to_string();
        prop_assert!(err.contains("cycle"), "{}", err);
    }
}

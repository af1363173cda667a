//! Each step's parents and ancestors, by name, computed once from the template when a task is
//! created and stored on its steps: a worker's claim then reads the ancestors' results with
//! one index lookup instead of walking the edges.

use super::Template;

/// A step's direct parents and all of its ancestors, each in template order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lineage {
    pub parents: Vec<String>,
    pub ancestors: Vec<String>,
}

/// The lineage of every step of a validated (acyclic) template, in step order. Dependencies
/// on unknown steps are left out (validation reports them before a template is stored).
pub fn lineage(template: &Template) -> Vec<Lineage> {
    let n = template.steps.len();
    let position = |name: &str| template.steps.iter().position(|s| s.name == name);
    let parents: Vec<Vec<usize>> = template
        .steps
        .iter()
        .map(|s| {
            let mut p: Vec<usize> = s.depends_on.iter().filter_map(|d| position(d)).collect();
            p.sort_unstable();
            p.dedup();
            p
        })
        .collect();
    (0..n)
        .map(|i| {
            let mut seen = vec![false; n];
            let mut stack = parents[i].clone();
            while let Some(p) = stack.pop() {
                // `p != i` keeps a (rejected elsewhere) cycle from looping forever here.
                if p != i && !seen[p] {
                    seen[p] = true;
                    stack.extend(parents[p].iter().copied());
                }
            }
            let names = |ix: &mut dyn Iterator<Item = usize>| -> Vec<String> {
                ix.map(|j| template.steps[j].name.clone()).collect()
            };
            Lineage {
                parents: names(&mut parents[i].iter().copied()),
                ancestors: names(&mut (0..n).filter(|&j| seen[j])),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::StepTemplate;

    fn template(steps: &[(&str, &[&str])]) -> Template {
        Template {
            namespace: "ns".into(),
            name: "t".into(),
            version: "1".into(),
            description: None,
            steps: steps
                .iter()
                .map(|(name, deps)| StepTemplate {
                    name: (*name).into(),
                    handler: "H".into(),
                    step_type: None,
                    description: None,
                    depends_on: deps.iter().map(|d| (*d).into()).collect(),
                    config: serde_json::json!({}),
                    retry: Default::default(),
                    timeout_seconds: None,
                    tasker: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn linear_chain_has_every_earlier_step_as_ancestor() {
        let l = lineage(&template(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &["c"]),
        ]));
        assert_eq!(l[0], Lineage::default());
        assert_eq!(l[3].parents, names(&["c"]));
        assert_eq!(l[3].ancestors, names(&["a", "b", "c"]));
    }

    #[test]
    fn diamond_counts_a_shared_ancestor_once_and_keeps_template_order() {
        let l = lineage(&template(&[
            ("start", &[]),
            ("c", &["start"]),
            ("b", &["start"]),
            ("end", &["b", "c"]),
        ]));
        assert_eq!(l[3].parents, names(&["c", "b"]));
        assert_eq!(l[3].ancestors, names(&["start", "c", "b"]));
    }

    #[test]
    fn siblings_are_not_ancestors() {
        let l = lineage(&template(&[
            ("init", &[]),
            ("left", &["init"]),
            ("right", &["init"]),
            ("transform", &["left"]),
        ]));
        assert_eq!(l[3].ancestors, names(&["init", "left"]));
        assert_eq!(l[2].ancestors, names(&["init"]));
    }

    #[test]
    fn unknown_dependencies_and_cycles_do_not_hang_or_panic() {
        let l = lineage(&template(&[("a", &["b", "ghost"]), ("b", &["a"])]));
        assert_eq!(l[0].parents, names(&["b"]));
        assert_eq!(l[0].ancestors, names(&["b"]));
        assert_eq!(l[1].ancestors, names(&["a"]));
    }
}

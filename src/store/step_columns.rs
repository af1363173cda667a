//! A template's steps as the columns of the rows each of its tasks gets (the arrays that one
//! INSERT ... SELECT FROM unnest(...) writes), with every default from the configuration.
//! Made once per template and batch; each task adds its own step uuids (TaskRows).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::templates::{lineage, Template};

#[derive(Default)]
pub struct StepColumns {
    pub names: Vec<String>,
    pub positions: Vec<i32>,
    pub handlers: Vec<String>,
    /// task, decision or fan_out
    pub types: Vec<String>,
    pub configs: Vec<String>,
    pub max_attempts: Vec<i32>,
    pub retryable: Vec<bool>,
    pub base: Vec<f64>,
    pub cap: Vec<f64>,
    pub timeouts: Vec<i32>,
    /// each step's parents and ancestors as JSON arrays of names (Postgres arrays of arrays
    /// must be rectangular)
    pub parents: Vec<String>,
    pub ancestors: Vec<String>,
    /// the edges, as (parent, child) positions in the steps
    pub edges: Vec<(usize, usize)>,
}

impl StepColumns {
    /// Appends another template's (or the same template's, for another task) step columns;
    /// the edges stay this one's.
    pub fn append(&mut self, c: &StepColumns) {
        self.names.extend_from_slice(&c.names);
        self.positions.extend_from_slice(&c.positions);
        self.handlers.extend_from_slice(&c.handlers);
        self.types.extend_from_slice(&c.types);
        self.configs.extend_from_slice(&c.configs);
        self.max_attempts.extend_from_slice(&c.max_attempts);
        self.retryable.extend_from_slice(&c.retryable);
        self.base.extend_from_slice(&c.base);
        self.cap.extend_from_slice(&c.cap);
        self.timeouts.extend_from_slice(&c.timeouts);
        self.parents.extend_from_slice(&c.parents);
        self.ancestors.extend_from_slice(&c.ancestors);
    }

    pub fn new(config: &Config, template: &Template) -> Result<StepColumns> {
        let n = template.steps.len();
        let mut c = StepColumns {
            names: Vec::with_capacity(n),
            positions: Vec::with_capacity(n),
            handlers: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            configs: Vec::with_capacity(n),
            max_attempts: Vec::with_capacity(n),
            retryable: Vec::with_capacity(n),
            base: Vec::with_capacity(n),
            cap: Vec::with_capacity(n),
            timeouts: Vec::with_capacity(n),
            parents: Vec::with_capacity(n),
            ancestors: Vec::with_capacity(n),
            edges: Vec::new(),
        };
        for lineage in lineage(template) {
            c.parents.push(serde_json::to_string(&lineage.parents)?);
            c.ancestors.push(serde_json::to_string(&lineage.ancestors)?);
        }
        for (i, s) in template.steps.iter().enumerate() {
            c.names.push(s.name.clone());
            c.positions.push(i as i32);
            c.handlers.push(s.handler.clone());
            c.types.push(s.kind().as_str().to_string());
            c.configs.push(s.config.to_string());
            c.max_attempts
                .push(s.retry.max_attempts.unwrap_or(config.default_max_attempts));
            c.retryable.push(s.retry.retryable.unwrap_or(true));
            let b = s
                .retry
                .backoff_base_seconds
                .unwrap_or(config.backoff_base_seconds);
            c.base.push(b);
            c.cap.push(
                s.retry
                    .max_backoff_seconds
                    .unwrap_or(config.max_backoff_seconds)
                    .max(b),
            );
            c.timeouts
                .push(s.timeout_seconds.unwrap_or(config.visibility_timeout));
        }
        let index = |name: &str| template.steps.iter().position(|s| s.name == name);
        for (i, s) in template.steps.iter().enumerate() {
            for dep in &s.depends_on {
                let parent = index(dep).ok_or_else(|| {
                    Error::Template(format!(
                        "template {}: step {:?} depends on unknown step {dep:?}",
                        template.label(),
                        s.name
                    ))
                })?;
                c.edges.push((parent, i));
            }
        }
        Ok(c)
    }

    pub fn step_count(&self) -> usize {
        self.names.len()
    }
}

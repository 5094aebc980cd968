//! `cluster status`: the workers, the deployments and who runs which task, as plain aligned
//! tables.

use crate::assignment::Assignment;
use crate::buckets::Cluster;
use crate::deployment::Deployment;
use crate::error::ClusterError;
use crate::registry::Registry;
use crate::{membership, records};

/// Columns of `rows` under `headers`, each as wide as its widest cell, two spaces apart,
/// no trailing spaces.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(&format!("{cell:<w$}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The status report: workers, deployments, tasks.
pub async fn report(cluster: &Cluster, registry: &Registry) -> Result<String, ClusterError> {
    let now = records::now_ms();
    let workers: Vec<Vec<String>> = membership::live(cluster)
        .await?
        .into_iter()
        .map(|w| {
            let age = now.saturating_sub(w.heartbeat_ms) as f64 / 1000.0;
            vec![w.name, w.host, w.pid.to_string(), format!("{age:.1}s ago")]
        })
        .collect();
    let deployments = records::read_all::<Deployment>(&cluster.deployments).await?;
    let assignments = records::read_all::<Assignment>(&cluster.assignments).await?;
    let mut rows = Vec::new();
    let mut tasks = Vec::new();
    for (name, (d, _)) in &deployments {
        let a = assignments
            .get(name)
            .map(|(a, _)| a)
            .filter(|a| a.submitted_ms == d.submitted_ms);
        rows.push(vec![
            name.clone(),
            d.topology.clone(),
            d.state.word().to_string(),
            a.map_or("-".into(), |a| a.incarnation.to_string()),
            a.map_or("-".into(), |a| a.leader.clone()),
        ]);
        let Some(a) = a else { continue };
        // Component names when this binary can prepare the topology, else indexes only.
        let named = registry
            .prepare(&d.topology, &d.options)
            .map(|p| squall::distributed::tasks(&p.topology))
            .unwrap_or_default();
        for (i, worker) in a.tasks.iter().enumerate() {
            let component = named
                .get(i)
                .map_or("?".to_string(), |(c, t)| format!("{c}[{t}]"));
            tasks.push(vec![name.clone(), i.to_string(), component, worker.clone()]);
        }
    }
    let mut out = String::new();
    out.push_str(&table(&["WORKER", "HOST", "PID", "HEARTBEAT"], &workers));
    out.push('\n');
    out.push_str(&table(
        &["DEPLOYMENT", "TOPOLOGY", "STATE", "INCARNATION", "LEADER"],
        &rows,
    ));
    out.push('\n');
    out.push_str(&table(
        &["DEPLOYMENT", "TASK", "COMPONENT", "WORKER"],
        &tasks,
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let t = table(
            &["A", "BB"],
            &[vec!["long".into(), "x".into()], vec!["s".into(), "".into()]],
        );
        assert_eq!(t, "A     BB\nlong  x\ns\n");
    }
}

//! Minimum vertex cover of a bipartite graph (users × user groups), for packing
//! memberships.
//!
//! Every membership must travel in an entry for its user or an entry for its group,
//! so the cheapest packing (ignoring the 100 names an entry holds) is a minimum
//! vertex cover of the membership graph, and any matching bounds it from below
//! (König's theorem: the maximum matching has the size of the minimum cover).
//! Hopcroft–Karp finds the maximum matching in O(E·√V).

use std::collections::VecDeque;

const NIL: u32 = u32::MAX;
const INF: u32 = u32::MAX;

/// A minimum vertex cover and the size of the maximum matching.
pub(crate) struct Cover {
    /// Size of the maximum matching (= size of the minimum cover).
    pub matching: usize,
    /// Left vertices in the cover; the right vertices in it are those adjacent to a
    /// left vertex outside it.
    pub left: Vec<bool>,
}

/// `adjacency[u]` lists the right vertices of left vertex `u`.
pub(crate) fn minimum_vertex_cover(right_count: usize, adjacency: &[Vec<u32>]) -> Cover {
    let left_count = adjacency.len();
    let mut match_left = vec![NIL; left_count];
    let mut match_right = vec![NIL; right_count];
    let mut matching = 0usize;

    // A greedy start leaves few augmenting paths to find.
    for (u, edges) in adjacency.iter().enumerate() {
        if let Some(&v) = edges.iter().find(|&&v| match_right[v as usize] == NIL) {
            match_left[u] = v;
            match_right[v as usize] = u as u32;
            matching += 1;
        }
    }

    let mut dist = vec![INF; left_count];
    let mut next_edge = vec![0usize; left_count];
    let mut queue = VecDeque::new();
    let mut stack: Vec<u32> = Vec::new();
    loop {
        // Layers from the free left vertices.
        queue.clear();
        for u in 0..left_count {
            if match_left[u] == NIL {
                dist[u] = 0;
                queue.push_back(u as u32);
            } else {
                dist[u] = INF;
            }
        }
        let mut found = false;
        while let Some(u) = queue.pop_front() {
            for &v in &adjacency[u as usize] {
                let w = match_right[v as usize];
                if w == NIL {
                    found = true;
                } else if dist[w as usize] == INF {
                    dist[w as usize] = dist[u as usize] + 1;
                    queue.push_back(w);
                }
            }
        }
        if !found {
            break;
        }
        // Vertex-disjoint shortest augmenting paths, by iterative depth-first search
        // (paths can be long; recursion could overflow the stack).
        next_edge.iter_mut().for_each(|e| *e = 0);
        for start in 0..left_count {
            if match_left[start] != NIL {
                continue;
            }
            stack.clear();
            stack.push(start as u32);
            while let Some(&u) = stack.last() {
                let u = u as usize;
                if next_edge[u] == adjacency[u].len() {
                    dist[u] = INF;
                    stack.pop();
                    continue;
                }
                let v = adjacency[u][next_edge[u]];
                next_edge[u] += 1;
                let w = match_right[v as usize];
                if w == NIL {
                    // Flip the path: each vertex on the stack takes the edge it last followed.
                    for &x in stack.iter().rev() {
                        let x = x as usize;
                        let y = adjacency[x][next_edge[x] - 1];
                        match_left[x] = y;
                        match_right[y as usize] = x as u32;
                    }
                    matching += 1;
                    break;
                } else if dist[w as usize] != INF && dist[w as usize] == dist[u] + 1 {
                    stack.push(w);
                }
            }
        }
    }

    // König: Z = vertices reachable from free left vertices by alternating paths;
    // the cover is (left not in Z) ∪ (right in Z), and (right in Z) is exactly the
    // set of right vertices next to a left vertex in Z.
    let mut seen_left = vec![false; left_count];
    let mut seen_right = vec![false; right_count];
    queue.clear();
    for u in 0..left_count {
        if match_left[u] == NIL {
            seen_left[u] = true;
            queue.push_back(u as u32);
        }
    }
    while let Some(u) = queue.pop_front() {
        for &v in &adjacency[u as usize] {
            if seen_right[v as usize] || match_left[u as usize] == v {
                continue;
            }
            seen_right[v as usize] = true;
            let w = match_right[v as usize];
            if w != NIL && !seen_left[w as usize] {
                seen_left[w as usize] = true;
                queue.push_back(w);
            }
        }
    }
    Cover {
        matching,
        left: seen_left.iter().map(|s| !s).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Right vertices that must join the left ones to cover every edge.
    fn right_cover(adjacency: &[Vec<u32>], cover: &Cover) -> std::collections::BTreeSet<u32> {
        adjacency
            .iter()
            .enumerate()
            .filter(|(u, _)| !cover.left[*u])
            .flat_map(|(_, edges)| edges.iter().copied())
            .collect()
    }

    fn cover_size(adjacency: &[Vec<u32>], cover: &Cover) -> usize {
        cover.left.iter().filter(|&&c| c).count() + right_cover(adjacency, cover).len()
    }

    #[test]
    fn one_big_group_is_covered_by_the_group() {
        let adjacency = vec![vec![0]; 1000];
        let cover = minimum_vertex_cover(1, &adjacency);
        assert_eq!(cover.matching, 1);
        assert!(cover.left.iter().all(|c| !c));
        assert_eq!(cover_size(&adjacency, &cover), 1);
    }

    #[test]
    fn few_users_in_many_groups_are_covered_by_the_users() {
        let adjacency: Vec<Vec<u32>> = (0..3).map(|_| (0..20).collect()).collect();
        let cover = minimum_vertex_cover(20, &adjacency);
        assert_eq!(cover.matching, 3);
        assert_eq!(cover_size(&adjacency, &cover), 3);
    }

    #[test]
    fn the_cover_is_minimum_on_a_graph_that_needs_augmenting_paths() {
        // A path u0-g0-u1-g1-u2-g2 plus a pendant: greedy matching is not maximum.
        let adjacency = vec![vec![0, 1], vec![0], vec![1, 2], vec![2]];
        let cover = minimum_vertex_cover(3, &adjacency);
        assert_eq!(cover.matching, 3);
        assert_eq!(cover_size(&adjacency, &cover), 3);
    }

    #[test]
    fn random_graphs_get_a_valid_cover_of_the_matching_size() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200 {
            let mut rand = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let (left, right) = (1 + rand() as usize % 12, 1 + rand() as usize % 12);
            let adjacency: Vec<Vec<u32>> = (0..left)
                .map(|_| {
                    let mut edges: Vec<u32> =
                        (0..right as u32).filter(|_| rand() % 3 == 0).collect();
                    edges.dedup();
                    edges
                })
                .collect();
            let cover = minimum_vertex_cover(right, &adjacency);
            assert_eq!(
                cover_size(&adjacency, &cover),
                cover.matching,
                "König: cover size equals matching size"
            );
        }
    }
}

//! `make_moons`, `make_circles`, `make_blobs`, the label conversions, and the embedded digits.

use torchlet::data::{
    labels_to_tensor, load_digits, make_blobs, make_circles, make_moons, one_hot, Centers, MakeBlobs, MakeCircles,
    MakeMoons,
};
use torchlet::Result;

fn points(x: &torchlet::Tensor<f64>) -> Result<Vec<[f64; 2]>> {
    Ok(x.to_vec2()?.into_iter().map(|p| [p[0], p[1]]).collect())
}

fn count(y: &[usize], label: usize) -> usize {
    y.iter().filter(|&&l| l == label).count()
}

#[test]
fn moons_lie_on_their_arcs_without_noise() -> Result<()> {
    for shuffle in [false, true] {
        let data = make_moons::<f64>(&MakeMoons { n_samples: 101, shuffle, ..Default::default() })?;
        assert_eq!(
            (data.x.shape(), count(&data.y.to_labels()?, 0), count(&data.y.to_labels()?, 1)),
            (&[101, 2][..], 50, 51)
        );
        for ([a, b], &label) in points(&data.x)?.iter().zip(&data.y.to_labels()?) {
            // Outer: the upper half of the unit circle. Inner: the lower half of the unit circle about (1, 0.5).
            let (cx, cy, upper) = if label == 0 { (0.0, 0.0, true) } else { (1.0, 0.5, false) };
            assert!(((a - cx).hypot(b - cy) - 1.0).abs() < 1e-12, "({a}, {b}) of class {label}");
            assert!(if upper { *b >= -1e-12 } else { *b <= 0.5 + 1e-12 });
        }
        let y = &data.y.to_labels()?;
        assert_eq!(shuffle, y.windows(2).any(|w| w[0] > w[1]), "shuffled: {shuffle}");
    }
    // Both ends of each arc are included.
    let x = points(&make_moons::<f64>(&MakeMoons { n_samples: 6, shuffle: false, ..Default::default() })?.x)?;
    assert_eq!((x[0], x[3], x[5][0]), ([1.0, 0.0], [0.0, 0.5], 2.0));
    assert!((x[2][0] + 1.0).abs() < 1e-15 && (x[5][1] - 0.5).abs() < 1e-15);
    Ok(())
}

#[test]
fn noise_is_added_after_the_shuffle() -> Result<()> {
    let clean = MakeMoons { n_samples: 2_000, seed: 5, ..Default::default() };
    let noisy = make_moons::<f64>(&MakeMoons { noise: Some(0.1), ..clean })?;
    let clean = make_moons::<f64>(&clean)?;
    assert_eq!(noisy.y.to_labels()?, clean.y.to_labels()?, "the same permutation");
    let d: Vec<f64> =
        points(&noisy.x)?.iter().zip(points(&clean.x)?).flat_map(|(n, c)| [n[0] - c[0], n[1] - c[1]]).collect();
    let std = (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt();
    assert!((std - 0.1).abs() < 0.005, "noise std {std}");
    let circles = MakeCircles { n_samples: 2_000, ..Default::default() };
    let noisy = make_circles::<f64>(&MakeCircles { noise: Some(0.0), ..circles })?;
    assert_eq!(noisy.x.to_vec()?, make_circles::<f64>(&circles)?.x.to_vec()?);
    Ok(())
}

#[test]
fn circles_have_radius_one_and_factor() -> Result<()> {
    let data = make_circles::<f64>(&MakeCircles { n_samples: 9, factor: 0.3, ..Default::default() })?;
    assert_eq!((count(&data.y.to_labels()?, 0), count(&data.y.to_labels()?, 1)), (4, 5));
    let mut angles = Vec::new();
    for ([a, b], &label) in points(&data.x)?.iter().zip(&data.y.to_labels()?) {
        let radius = if label == 0 { 1.0 } else { 0.3 };
        assert!((a.hypot(*b) - radius).abs() < 1e-12);
        if label == 0 {
            angles.push(b.atan2(*a).rem_euclid(std::f64::consts::TAU));
        }
    }
    // Evenly spaced over [0, 2π), the end excluded: 0, π/2, π, 3π/2.
    angles.sort_by(f64::total_cmp);
    for (a, k) in angles.iter().zip(0..) {
        assert!((a - k as f64 * std::f64::consts::FRAC_PI_2).abs() < 1e-12, "angle {a}");
    }
    // As in scikit-learn, no samples give empty data.
    let empty = make_circles::<f32>(&MakeCircles { n_samples: 0, ..Default::default() })?;
    assert_eq!((empty.x.shape(), empty.y.numel()), (&[0, 2][..], 0));
    Ok(())
}

#[test]
fn blobs_gather_around_their_centers() -> Result<()> {
    let config =
        MakeBlobs { n_samples: 3_000, n_features: 3, cluster_std: vec![0.5, 1.0, 2.0].into(), ..Default::default() };
    let blobs = make_blobs::<f64>(&config)?;
    assert_eq!((blobs.x.shape(), blobs.centers.shape()), (&[3_000, 3][..], &[3, 3][..]));
    let (x, centers) = (blobs.x.to_vec2()?, blobs.centers.to_vec2()?);
    assert!(centers.iter().flatten().all(|c| (-10.0..10.0).contains(c)));
    for (i, std) in [0.5, 1.0, 2.0].into_iter().enumerate() {
        let rows: Vec<&Vec<f64>> =
            x.iter().zip(&blobs.y.to_labels()?).filter(|(_, &l)| l == i).map(|(r, _)| r).collect();
        assert_eq!(rows.len(), 1_000);
        for j in 0..3 {
            let mean = rows.iter().map(|r| r[j]).sum::<f64>() / 1_000.0;
            let var = rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / 1_000.0;
            assert!((mean - centers[i][j]).abs() < 5.0 * std / 1_000f64.sqrt(), "cluster {i} mean {mean}");
            assert!((var.sqrt() / std - 1.0).abs() < 0.1, "cluster {i} std {}", var.sqrt());
        }
    }
    // Given centers set the number of features; 10 points over 3 centers: 4, 3, 3, in order when not shuffled.
    let given = vec![vec![0.0], vec![50.0], vec![-50.0]];
    let config =
        MakeBlobs { n_samples: 10, n_features: 7, centers: given.clone().into(), shuffle: false, ..Default::default() };
    let blobs = make_blobs::<f64>(&config)?;
    assert_eq!(blobs.y.to_labels()?, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert_eq!((blobs.x.shape(), blobs.centers.to_vec2()?), (&[10, 1][..], given));
    let shuffled = make_blobs::<f64>(&MakeBlobs { shuffle: true, ..config })?;
    assert_ne!(shuffled.y.to_labels()?, blobs.y.to_labels()?);
    let shuffled_y = shuffled.y.to_labels()?;
    assert_eq!((0..3).map(|i| count(&shuffled_y, i)).collect::<Vec<_>>(), [4, 3, 3]);
    // A zero standard deviation puts every point on its center; seeds reproduce.
    let exact = MakeBlobs { centers: Centers::Count(2), cluster_std: 0.0.into(), seed: 9, ..Default::default() };
    let (a, b) = (make_blobs::<f32>(&exact)?, make_blobs::<f32>(&exact)?);
    assert_eq!((a.x.to_vec()?, &a.y.to_labels()?), (b.x.to_vec()?, &b.y.to_labels()?));
    let centers = a.centers.to_vec2()?;
    assert!(a.x.to_vec2()?.iter().zip(&a.y.to_labels()?).all(|(p, &l)| *p == centers[l]));
    Ok(())
}

#[test]
fn labels_become_tensors() -> Result<()> {
    assert_eq!(labels_to_tensor::<f32>(&[3, 0, 1]).to_vec()?, vec![3.0, 0.0, 1.0]);
    let hot = one_hot::<f64>(&[1, 0, 2, 1], 4)?;
    assert_eq!(hot.shape(), &[4, 4]);
    assert_eq!(hot.to_vec()?.iter().sum::<f64>(), 4.0);
    assert_eq!(hot.to_vec2()?[2], [0.0, 0.0, 1.0, 0.0]);
    assert_eq!(one_hot::<f32>(&[], 3)?.shape(), &[0, 3]);
    assert_eq!(one_hot::<f32>(&[0], 0).unwrap_err().to_string(), "one_hot: num_classes must be at least 1, got 0");
    Ok(())
}

#[test]
fn digits_are_scikit_learns() -> Result<()> {
    let digits = load_digits::<f64>()?;
    assert_eq!((digits.x.shape(), digits.y.numel()), (&[1_797, 64][..], 1_797));
    let labels = digits.y.to_labels()?;
    let counts: Vec<usize> = (0..10).map(|d| count(&labels, d)).collect();
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    let x = digits.x.to_vec2()?;
    assert!(x.iter().flatten().all(|&v| (0.0..=1.0).contains(&v) && (16.0 * v).fract() == 0.0));
    // Checksums computed with Python's gzip and csv modules from sklearn 1.9.1's digits.csv.gz:
    // Σ pixels = 561 718; Σ_i (i+1) Σ_j (j+1) pixel_ij = 16 337 198 609; Σ_i (i+1) label_i = 7 272 861;
    // 10 456 pixels are 16 and 56 272 are 0.
    let pixels: Vec<Vec<u64>> = x.iter().map(|row| row.iter().map(|v| (16.0 * v) as u64).collect()).collect();
    assert_eq!(pixels.iter().flatten().sum::<u64>(), 561_718);
    let weighted: u64 = (1..).zip(&pixels).map(|(i, row)| i * (1..).zip(row).map(|(j, p)| j * p).sum::<u64>()).sum();
    assert_eq!(weighted, 16_337_198_609);
    assert_eq!((1..).zip(&digits.y.to_labels()?).map(|(i, &l)| i * l as u64).sum::<u64>(), 7_272_861);
    assert_eq!(pixels.iter().flatten().filter(|&&p| p == 16).count(), 10_456);
    assert_eq!(pixels.iter().flatten().filter(|&&p| p == 0).count(), 56_272);
    let single = load_digits::<f32>()?;
    assert_eq!(single.y.to_labels()?, digits.y.to_labels()?);
    assert!(single.x.to_vec()?.iter().zip(digits.x.to_vec()?).all(|(&s, d)| f64::from(s) == d));
    Ok(())
}

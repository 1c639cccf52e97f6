//! Every wrong configuration of the classification generators gives an error naming the parameter and its
//! value, as scikit-learn refuses it (and a few that scikit-learn lets through to odd results).

use torchlet::data::{
    make_blobs, make_circles, make_classification, make_moons, Centers, ClusterStd, MakeBlobs, MakeCircles,
    MakeClassification, MakeMoons,
};

#[test]
fn make_classification_errors_name_the_values() {
    let err = |config: MakeClassification| make_classification::<f64>(&config).unwrap_err().to_string();
    let d = MakeClassification::default;
    for (name, config) in [
        ("n_samples", MakeClassification { n_samples: 0, ..d() }),
        ("n_features", MakeClassification { n_features: 0, ..d() }),
        ("n_informative", MakeClassification { n_informative: 0, ..d() }),
        ("n_classes", MakeClassification { n_classes: 0, ..d() }),
        ("n_clusters_per_class", MakeClassification { n_clusters_per_class: 0, ..d() }),
    ] {
        assert_eq!(err(config), format!("make_classification: {name} must be at least 1, got 0"));
    }
    assert_eq!(
        err(MakeClassification { n_features: 5, n_informative: 3, n_redundant: 2, n_repeated: 1, ..d() }),
        "make_classification: the numbers of informative (3), redundant (2) and repeated (1) features must sum to \
         at most n_features (5), got 6"
    );
    assert_eq!(
        err(MakeClassification { n_classes: 3, n_informative: 2, ..d() }),
        "make_classification: n_classes (3) * n_clusters_per_class (2) = 6 must be at most 2**n_informative (2) = 4"
    );
    assert_eq!(
        err(MakeClassification { n_classes: 3, weights: Some(vec![0.5]), n_informative: 3, ..d() }),
        "make_classification: weights has 1 values, but n_classes is 3: give n_classes or n_classes - 1 weights"
    );
    assert_eq!(
        err(MakeClassification { weights: Some(vec![0.5, -0.5]), ..d() }),
        "make_classification: weights must be finite and >= 0, got [0.5, -0.5]"
    );
    assert_eq!(
        err(MakeClassification { weights: Some(vec![1.5]), ..d() }),
        "make_classification: weights must be finite and >= 0, got [1.5, -0.5] (the last one is 1 - the sum of \
         the others)"
    );
    assert_eq!(
        err(MakeClassification { weights: Some(vec![0.8, 0.8]), ..d() }),
        "make_classification: weights [0.8, 0.8] ask for 160 samples, more than n_samples (100)"
    );
    for flip_y in [-0.1, 1.5, f64::NAN] {
        assert_eq!(
            err(MakeClassification { flip_y, ..d() }),
            format!("make_classification: flip_y must be in [0, 1], got {flip_y}")
        );
    }
    for class_sep in [0.0, -1.0, f64::INFINITY] {
        assert_eq!(
            err(MakeClassification { class_sep, ..d() }),
            format!("make_classification: class_sep must be finite and > 0, got {class_sep}")
        );
    }
    assert_eq!(
        err(MakeClassification { scale: Some(0.0), ..d() }),
        "make_classification: scale must be finite and > 0, got 0"
    );
    assert_eq!(
        err(MakeClassification { shift: Some(f64::NAN), ..d() }),
        "make_classification: shift must be finite, got NaN"
    );
    assert_eq!(
        err(MakeClassification {
            n_features: 40,
            n_informative: 31,
            n_classes: 1 << 31,
            n_clusters_per_class: 1,
            ..d()
        }),
        "make_classification: 2147483648 clusters are more than the 2**30 supported"
    );
}

#[test]
fn moons_circles_and_blobs_errors_name_the_values() {
    let moons = |c: MakeMoons| make_moons::<f64>(&c).unwrap_err().to_string();
    assert_eq!(
        moons(MakeMoons { n_samples: 0, ..Default::default() }),
        "make_moons: n_samples must be at least 1, got 0"
    );
    assert_eq!(
        moons(MakeMoons { noise: Some(-0.1), ..Default::default() }),
        "make_moons: noise must be None or finite and >= 0, got -0.1"
    );
    let circles = |c: MakeCircles| make_circles::<f64>(&c).unwrap_err().to_string();
    for factor in [1.0, -0.5, f64::NAN] {
        assert_eq!(
            circles(MakeCircles { factor, ..Default::default() }),
            format!("make_circles: factor must be in [0, 1), got {factor}")
        );
    }
    assert_eq!(
        circles(MakeCircles { noise: Some(f64::INFINITY), ..Default::default() }),
        "make_circles: noise must be None or finite and >= 0, got inf"
    );
    let blobs = |c: MakeBlobs| make_blobs::<f64>(&c).unwrap_err().to_string();
    let d = MakeBlobs::default;
    for (name, config) in [
        ("n_samples", MakeBlobs { n_samples: 0, ..d() }),
        ("n_features", MakeBlobs { n_features: 0, ..d() }),
        ("centers", MakeBlobs { centers: 0usize.into(), ..d() }),
    ] {
        assert_eq!(blobs(config), format!("make_blobs: {name} must be at least 1, got 0"));
    }
    let points = |p: Vec<Vec<f64>>| MakeBlobs { centers: Centers::Points(p), ..d() };
    assert_eq!(blobs(points(vec![])), "make_blobs: centers must hold at least one point, got none");
    assert_eq!(blobs(points(vec![vec![]])), "make_blobs: center 0 has no coordinates; centers need at least 1");
    assert_eq!(
        blobs(points(vec![vec![1.0, 2.0], vec![3.0]])),
        "make_blobs: center 1 has 1 coordinates, but center 0 has 2; all need the same number"
    );
    assert_eq!(blobs(points(vec![vec![f64::NAN]])), "make_blobs: centers must be finite, got [NaN]");
    assert_eq!(
        blobs(MakeBlobs { cluster_std: ClusterStd::PerCenter(vec![1.0, 2.0]), ..d() }),
        "make_blobs: cluster_std has 2 values for 3 centers; give one per center"
    );
    assert_eq!(
        blobs(MakeBlobs { cluster_std: (-1.0).into(), ..d() }),
        "make_blobs: cluster_std must be finite and >= 0, got -1"
    );
    assert_eq!(
        blobs(MakeBlobs { center_box: (1.0, -1.0), ..d() }),
        "make_blobs: center_box must be finite with low <= high, got (1, -1)"
    );
}

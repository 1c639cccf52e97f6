//! `metrics`: accuracy, confusion matrix and macro precision/recall/F1 against scikit-learn's values, and
//! argmax over score rows.

use torchlet::metrics::{accuracy, argmax_rows, confusion_matrix, precision_recall_f1, PrecisionRecallF1};
use torchlet::{Result, Tensor};

/// The expected values below come from scikit-learn 1.9.1, `sklearn.metrics.accuracy_score`,
/// `confusion_matrix` (with `labels=range(max + 1)` where its default would drop an absent class) and
/// `precision_recall_fscore_support(average="macro")`, on these inputs.
struct Case {
    y_true: &'static [usize],
    y_pred: &'static [usize],
    accuracy: f64,
    matrix: &'static [&'static [usize]],
    macro_scores: [f64; 3],
}

const CASES: [Case; 5] = [
    // Four classes, every kind of mistake.
    Case {
        y_true: &[0, 1, 2, 2, 1, 0, 3, 3, 2, 1, 0, 2],
        y_pred: &[0, 2, 2, 1, 1, 0, 3, 0, 2, 1, 1, 2],
        accuracy: 0.6666666666666666,
        matrix: &[&[2, 1, 0, 0], &[0, 2, 1, 0], &[0, 1, 3, 0], &[1, 0, 0, 1]],
        macro_scores: [0.7291666666666666, 0.6458333333333333, 0.6636904761904762],
    },
    // Class 2 is never predicted: its precision is ill-defined and counts as 0 (sklearn warns).
    Case {
        y_true: &[0, 1, 2, 2],
        y_pred: &[0, 0, 1, 1],
        accuracy: 0.25,
        matrix: &[&[1, 0, 0], &[1, 0, 0], &[0, 2, 0]],
        macro_scores: [0.16666666666666666, 0.3333333333333333, 0.2222222222222222],
    },
    // Class 2 is only predicted: its recall is ill-defined and counts as 0 (sklearn warns).
    Case {
        y_true: &[0, 0, 1, 1],
        y_pred: &[0, 2, 1, 1],
        accuracy: 0.75,
        matrix: &[&[1, 0, 1], &[0, 2, 0], &[0, 0, 0]],
        macro_scores: [0.6666666666666666, 0.5, 0.5555555555555555],
    },
    // Classes 1 and 2 occur nowhere: zero rows and columns here, and left out of the macro average.
    Case {
        y_true: &[0, 3, 3],
        y_pred: &[0, 3, 0],
        accuracy: 0.6666666666666666,
        matrix: &[&[1, 0, 0, 0], &[0, 0, 0, 0], &[0, 0, 0, 0], &[1, 0, 0, 1]],
        macro_scores: [0.75, 0.75, 0.6666666666666666],
    },
    // One class, all right.
    Case { y_true: &[1, 1, 1], y_pred: &[1, 1, 1], accuracy: 1.0, matrix: &[&[0, 0], &[0, 3]], macro_scores: [1.0; 3] },
];

#[test]
fn metrics_match_scikit_learn() -> Result<()> {
    for case in &CASES {
        assert_eq!(accuracy(case.y_true, case.y_pred)?, case.accuracy);
        let matrix: Vec<Vec<usize>> = case.matrix.iter().map(|row| row.to_vec()).collect();
        assert_eq!(confusion_matrix(case.y_true, case.y_pred)?, matrix);
        let PrecisionRecallF1 { precision, recall, f1 } = precision_recall_f1(case.y_true, case.y_pred)?;
        for (got, want) in [precision, recall, f1].into_iter().zip(case.macro_scores) {
            assert!((got - want).abs() <= 1e-15, "{:?} vs {:?}: {got} != {want}", case.y_true, case.y_pred);
        }
    }
    Ok(())
}

#[test]
fn confusion_matrix_rows_are_true_classes() -> Result<()> {
    let (y_true, y_pred) = ([0, 0, 0, 1, 2, 2], [0, 1, 2, 1, 1, 2]);
    let m = confusion_matrix(&y_true, &y_pred)?;
    let row_sums: Vec<usize> = m.iter().map(|row| row.iter().sum()).collect();
    let column_sums: Vec<usize> = (0..3).map(|j| m.iter().map(|row| row[j]).sum()).collect();
    assert_eq!((row_sums, column_sums), (vec![3, 1, 2], vec![1, 3, 2]));
    let diagonal: usize = (0..3).map(|i| m[i][i]).sum();
    assert_eq!(diagonal as f64 / 6.0, accuracy(&y_true, &y_pred)?);
    Ok(())
}

#[test]
fn argmax_rows_picks_the_first_largest_and_nan() -> Result<()> {
    let scores = Tensor::<f32>::new([[0.2, 0.5, 0.3], [1.0, 1.0, -1.0], [-3.0, -2.0, -1.0], [0.0, f32::NAN, 9.0]]);
    assert_eq!(argmax_rows(&scores)?, [1, 0, 2, 1]);
    // A transposed view reads in logical order.
    let t = Tensor::<f64>::new([[1.0, 5.0], [4.0, 2.0]]).t()?;
    assert_eq!(argmax_rows(&t)?, [1, 0]);
    assert!(argmax_rows(&Tensor::<f64>::zeros(&[0, 3]))?.is_empty());
    for shape in [&[3][..], &[2, 0], &[2, 2, 2]] {
        assert_eq!(
            argmax_rows(&Tensor::<f64>::zeros(shape)).unwrap_err().to_string(),
            format!("argmax_rows: expected scores of shape [n, classes] with classes >= 1, got {shape:?}")
        );
    }
    Ok(())
}

#[test]
fn metric_errors_name_the_lengths() {
    for (op, err) in [
        ("accuracy", accuracy(&[0, 1, 2], &[0, 1]).unwrap_err()),
        ("confusion_matrix", confusion_matrix(&[0, 1, 2], &[0, 1]).unwrap_err()),
        ("precision_recall_f1", precision_recall_f1(&[0, 1, 2], &[0, 1]).unwrap_err()),
    ] {
        assert_eq!(err.to_string(), format!("{op}: y_true has 3 labels and y_pred 2; they must have the same length"));
    }
    for (op, err) in [
        ("accuracy", accuracy(&[], &[]).unwrap_err()),
        ("confusion_matrix", confusion_matrix(&[], &[]).unwrap_err()),
        ("precision_recall_f1", precision_recall_f1(&[], &[]).unwrap_err()),
    ] {
        assert_eq!(err.to_string(), format!("{op}: y_true and y_pred are empty; at least 1 label is needed"));
    }
    assert_eq!(
        confusion_matrix(&[0, usize::MAX], &[0, 0]).unwrap_err().to_string(),
        format!(
            "confusion_matrix: label {} is too large for a dense matrix of the classes 0..={}",
            usize::MAX,
            usize::MAX
        )
    );
}

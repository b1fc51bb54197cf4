// The gate's out-of-distribution and robust-accuracy floors.
#include "eval/gate.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

EvaluationReport Report() {
  EvaluationReport r;
  r.set_split("test");
  r.set_num_images(100);
  for (const char* source : {"noise", "vflip"}) {
    for (const char* score : {"msp", "energy"}) {
      OodResult* o = r.mutable_ood()->add_results();
      o->set_score(score);
      o->set_source(source);
      o->set_auroc(std::string(source) == "noise" ? 0.99 : 0.8);
      o->set_fpr_at_95_tpr(std::string(source) == "noise" ? 0.02 : 0.6);
    }
  }
  AdversarialRobustness* a = r.mutable_adversarial();
  for (double eps : {1.0 / 255, 2.0 / 255}) {
    AdversarialRobustAccuracy* ra = a->add_robust();
    ra->set_norm("linf");
    ra->set_epsilon(eps);
    ra->set_accuracy(eps < 1.5 / 255 ? 0.4 : 0.1);
  }
  for (const char* check : {"epsilon_zero_is_clean", "monotone_in_epsilon"}) {
    AdversarialMaskingCheck* c = a->add_checks();
    c->set_check(check);
    c->set_passed(true);
  }
  return r;
}

GateThresholds Floors() {
  GateThresholds t;
  t.set_ood_score("energy");
  t.set_min_ood_auroc(0.75);
  t.set_max_fpr_at_95(0.7);
  AdversarialFloor* f = t.add_min_robust_accuracy();
  f->set_norm("linf");
  f->set_epsilon(0.00392157);  // 1/255 as a person writes it
  f->set_min_accuracy(0.3);
  return t;
}

TEST(GateOodAdversarialTest, PassesEverySourceAndFloor) {
  const GateResult r = CheckGate(Report(), Floors());
  EXPECT_TRUE(r.passed()) << r.failures.front();
  // AUROC and FPR for 2 sources, one robust floor.
  EXPECT_EQ(r.passes.size(), 5u);
}

TEST(GateOodAdversarialTest, NamesTheSourceAndEpsilonThatFail) {
  GateThresholds t = Floors();
  t.set_min_ood_auroc(0.9);
  t.mutable_min_robust_accuracy(0)->set_epsilon(2.0 / 255);
  const GateResult r = CheckGate(Report(), t);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0],
            "ood_auroc[energy, vflip] 0.8000 < min_ood_auroc 0.9000");
  EXPECT_EQ(r.failures[1],
            "robust_accuracy[linf, eps 0.00784314] 0.1000 < "
            "min_robust_accuracy 0.3000");
}

TEST(GateOodAdversarialTest, FprAbovetheCeilingFails) {
  GateThresholds t = Floors();
  t.set_max_fpr_at_95(0.5);
  const GateResult r = CheckGate(Report(), t);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0],
            "fpr_at_95[energy, vflip] 0.6000 > max_fpr_at_95 0.5000");
}

TEST(GateOodAdversarialTest, AFailedMaskingCheckFailsTheRobustFloors) {
  EvaluationReport report = Report();
  AdversarialMaskingCheck* c = report.mutable_adversarial()->mutable_checks(1);
  c->set_passed(false);
  c->set_detail("fgsm rises");
  const GateResult r = CheckGate(report, Floors());
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0],
            "gradient masking check monotone_in_epsilon failed (fgsm rises), "
            "so min_robust_accuracy cannot be judged");
}

TEST(GateOodAdversarialTest, UnmeasuredEvidenceFails) {
  EvaluationReport report = Report();
  report.clear_ood();
  report.clear_adversarial();
  const GateResult r = CheckGate(report, Floors());
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0],
            "ood score \"energy\" is not in the report but min_ood_auroc is "
            "set");
  EXPECT_EQ(r.failures[1],
            "robust_accuracy[linf, eps 0.00392157] is not in the report but "
            "min_robust_accuracy is set");
}

TEST(GateOodAdversarialTest, RejectsBadFloors) {
  GateThresholds t = Floors();
  EXPECT_TRUE(ValidateThresholds(t, "g.textproto").ok());
  t.clear_ood_score();
  EXPECT_NE(ValidateThresholds(t, "g.textproto").message().find("ood_score"),
            std::string::npos);
  t = Floors();
  t.set_ood_score("entropy");
  EXPECT_NE(ValidateThresholds(t, "g.textproto")
                .message()
                .find("ood_score \"entropy\" is none of"),
            std::string::npos);
  t = Floors();
  t.set_min_ood_auroc(1.5);
  EXPECT_NE(
      ValidateThresholds(t, "g.textproto").message().find("min_ood_auroc"),
      std::string::npos);
  t = Floors();
  t.mutable_min_robust_accuracy(0)->set_norm("l1");
  EXPECT_NE(ValidateThresholds(t, "g.textproto")
                .message()
                .find("min_robust_accuracy[0].norm"),
            std::string::npos);
  t = Floors();
  t.mutable_min_robust_accuracy(0)->set_min_accuracy(-0.1);
  EXPECT_NE(ValidateThresholds(t, "g.textproto")
                .message()
                .find("min_robust_accuracy[0].min_accuracy"),
            std::string::npos);
  // A file of robustness floors alone sets a threshold.
  GateThresholds only;
  *only.add_min_robust_accuracy() = Floors().min_robust_accuracy(0);
  EXPECT_TRUE(ValidateThresholds(only, "g.textproto").ok());
}

}  // namespace
}  // namespace vit_moe::eval

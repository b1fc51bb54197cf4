// The attacks against a linear classifier, whose worst case has a closed
// form, and the gradient-masking checks against a model whose gradient is
// zero everywhere.
#include <ATen/CPUGeneratorImpl.h>

#include "eval/adversarial_attacks.h"
#include "eval/adversarial_evaluation.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

constexpr int kSide = 4;

struct Linear {
  torch::Tensor w;  // [2, 16]
  torch::Tensor b;  // [2]
  torch::Tensor operator()(const torch::Tensor& x) const {
    return torch::matmul(x.flatten(1), w.t()) + b;
  }
  // z_y - z_other for two classes.
  torch::Tensor Margin(const torch::Tensor& x, const torch::Tensor& y) const {
    const torch::Tensor z = (*this)(x);
    const torch::Tensor sign = 1 - 2 * y.to(torch::kFloat32);  // +1 for y 0
    return sign * (z.select(1, 0) - z.select(1, 1));
  }
  // ||w_y - w_other|| in the dual norm of the attack's: the margin falls by
  // eps times it at the worst point of the ball.
  torch::Tensor Dual(double p) const { return (w[0] - w[1]).norm(p); }
};

class LinearAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(5);
    const torch::Tensor w = torch::randn({2, kSide * kSide});
    // The decision boundary through the grey image, so that margins are
    // comparable with what an epsilon moves.
    model_ = {w, -0.5 * w.sum(1) + 0.01 * torch::randn({2})};
    // Pixels in [0.3, 0.7] and epsilons below 0.3: the ball never touches
    // the [0, 1] clip, so the closed form holds exactly.
    x_ = 0.3 + 0.4 * torch::rand({64, 1, kSide, kSide});
    y_ = model_(x_).argmax(1);  // clean accuracy 1
    f_ = [this](const torch::Tensor& x) { return model_(x); };
  }
  Linear model_;
  torch::Tensor x_, y_;
  PixelClassifier f_;
};

TEST_F(LinearAttackTest, PgdLinfReachesTheClosedFormWorstCase) {
  const double eps = 0.02;
  at::Generator gen = at::detail::createCPUGenerator(1);
  const torch::Tensor adv = PgdLinf(f_, x_, y_, eps, 10, 0.25 * eps, true, gen);
  EXPECT_LE((adv - x_).abs().max().item<double>(), eps + 1e-6);
  const torch::Tensor worst =
      model_.Margin(x_, y_) - eps * model_.Dual(1).item<double>();
  EXPECT_TRUE(torch::allclose(model_.Margin(adv, y_), worst, 1e-4, 1e-4));
  // Robust accuracy is the closed form's: the images whose worst margin
  // stays positive; some are, some are not.
  const double closed = (worst > 0).to(torch::kFloat64).mean().item<double>();
  ASSERT_GT(closed, 0);
  ASSERT_LT(closed, 1);
  EXPECT_DOUBLE_EQ(
      (f_(adv).argmax(1) == y_).to(torch::kFloat64).mean().item<double>(),
      closed);
  // FGSM and APGD reach the same corner on a linear model.
  EXPECT_TRUE(torch::allclose(model_.Margin(Fgsm(f_, x_, y_, eps), y_), worst,
                              1e-4, 1e-4));
  const torch::Tensor apgd = ApgdCe(f_, x_, y_, eps, 20, gen);
  // APGD returns the first misclassified point, so only robust images sit
  // at the corner; every image is at most as good as the worst case says.
  const torch::Tensor robust = worst > 0;
  EXPECT_TRUE(((f_(apgd).argmax(1) == y_) == robust).all().item<bool>());
}

TEST_F(LinearAttackTest, PgdL2ReachesTheClosedFormWorstCase) {
  const double eps = 0.2;
  at::Generator gen = at::detail::createCPUGenerator(2);
  const torch::Tensor worst =
      model_.Margin(x_, y_) - eps * model_.Dual(2).item<double>();
  // From the centre every step follows the constant gradient: exact.
  const torch::Tensor adv = PgdL2(f_, x_, y_, eps, 10, 0.2 * eps, false, gen);
  EXPECT_TRUE(torch::allclose(model_.Margin(adv, y_), worst, 1e-4, 1e-4));
  EXPECT_LE((adv - x_).flatten(1).norm(2, 1).max().item<double>(), eps + 1e-5);
  // From a random start the projection keeps a little of the random
  // direction: close to, never beyond, the worst case.
  const torch::Tensor random = PgdL2(f_, x_, y_, eps, 10, 0.2 * eps, true, gen);
  const torch::Tensor margin = model_.Margin(random, y_);
  EXPECT_TRUE((margin >= worst - 1e-4).all().item<bool>());
  EXPECT_TRUE(
      (margin <= worst + 0.1 * eps * model_.Dual(2)).all().item<bool>());
}

TEST_F(LinearAttackTest, SquareNeverBeatsTheWorstCase) {
  const double eps = 0.02;
  at::Generator gen = at::detail::createCPUGenerator(3);
  const torch::Tensor adv = SquareLinf(f_, x_, y_, eps, 200, 0.8, gen);
  EXPECT_LE((adv - x_).abs().max().item<double>(), eps + 1e-6);
  const torch::Tensor worst =
      model_.Margin(x_, y_) - eps * model_.Dual(1).item<double>();
  EXPECT_TRUE((model_.Margin(adv, y_) >= worst - 1e-4).all().item<bool>());
  // ... and it finds some of the non-robust images with logits alone.
  EXPECT_GT((f_(adv).argmax(1) != y_).sum().item<int64_t>(), 0);
}

AdversarialOptions Small() {
  AdversarialOptions o;
  o.images = 64;
  o.linf_epsilons = {0.02, 0.05, 0.1};
  o.l2_epsilons = {0.1, 0.3};
  o.apgd_iterations = 20;
  o.square_queries = 200;
  return o;
}

const AdversarialMaskingCheck& Check(const AdversarialRobustness& r,
                                     const std::string& name) {
  for (const AdversarialMaskingCheck& c : r.checks()) {
    if (c.check() == name) return c;
  }
  ADD_FAILURE() << "no check " << name;
  return r.checks(0);
}

TEST_F(LinearAttackTest, AnHonestModelPassesEveryMaskingCheck) {
  const RobustnessMeasurement m =
      MeasureRobustness(f_, x_, y_, torch::Tensor(), Small(), 16);
  ASSERT_EQ(m.result.checks_size(), 4);
  for (const AdversarialMaskingCheck& c : m.result.checks()) {
    EXPECT_TRUE(c.passed()) << c.check() << ": " << c.detail();
  }
  EXPECT_DOUBLE_EQ(m.result.clean_accuracy(), 1);
  // Robust accuracy per epsilon is the closed form's.
  for (const AdversarialRobustAccuracy& r : m.result.robust()) {
    const double dual = model_.Dual(r.norm() == "linf" ? 1 : 2).item<double>();
    const double closed = ((model_.Margin(x_, y_) - r.epsilon() * dual) > 0)
                              .to(torch::kFloat64)
                              .mean()
                              .item<double>();
    if (r.norm() == "linf") {
      EXPECT_DOUBLE_EQ(r.accuracy(), closed) << r.epsilon();
    } else {
      // PGD L2's random start leaves it a few images short of the corner.
      EXPECT_GE(r.accuracy(), closed) << r.epsilon();
      EXPECT_LE(r.accuracy(), closed + 6.0 / 64) << r.epsilon();
    }
  }
  // The same seed gives the same numbers.
  const RobustnessMeasurement again =
      MeasureRobustness(f_, x_, y_, torch::Tensor(), Small(), 16);
  EXPECT_EQ(again.result.SerializeAsString(), m.result.SerializeAsString());
}

TEST_F(LinearAttackTest, MaskingChecksCatchAModelWithoutGradients) {
  // Rounding the pixels to eighths first: the same decisions almost
  // everywhere, a zero gradient everywhere. White-box attacks stall; the
  // black box does not.
  const PixelClassifier masked = [this](const torch::Tensor& x) {
    return model_(torch::round(x * 8) / 8);  // round's gradient is 0
  };
  const torch::Tensor y = masked(x_).argmax(1);
  const RobustnessMeasurement m =
      MeasureRobustness(masked, x_, y, torch::Tensor(), Small(), 16);
  EXPECT_FALSE(Check(m.result, "black_box_not_stronger").passed())
      << Check(m.result, "black_box_not_stronger").detail();
}

TEST_F(LinearAttackTest, EpsilonZeroMustMatchTheEvaluation) {
  // The evaluation said one image was wrong; the pixel path says right.
  torch::Tensor expected = torch::ones({64}, torch::kBool);
  expected[3] = false;
  const RobustnessMeasurement m =
      MeasureRobustness(f_, x_, y_, expected, Small(), 16);
  EXPECT_FALSE(Check(m.result, "epsilon_zero_is_clean").passed());
}

TEST(AdversarialOptionsTest, RefusesBadSettings) {
  AdversarialOptions o;
  o.images = 10;
  EXPECT_TRUE(ValidateAdversarialOptions(o, 10).ok());
  EXPECT_NE(ValidateAdversarialOptions(o, 9).message().find(
                "--adversarial_images=10 must be in 0..9"),
            std::string::npos);
  o.linf_epsilons = {0.1, -0.01};
  EXPECT_NE(ValidateAdversarialOptions(o, 10).message().find("below 0"),
            std::string::npos);
  o.linf_epsilons = {0.1, 0.1};
  EXPECT_NE(ValidateAdversarialOptions(o, 10).message().find("twice"),
            std::string::npos);
  o.linf_epsilons = {0.1};
  o.pgd_steps = 0;
  EXPECT_FALSE(ValidateAdversarialOptions(o, 10).ok());
}

TEST(AdversarialOptionsTest, ParsesFractionsAndDecimals) {
  auto eps = ParseEpsilons("--f", "1/255,0.5,,8/255");
  ASSERT_TRUE(eps.ok()) << eps.status();
  ASSERT_EQ(eps->size(), 3);
  EXPECT_DOUBLE_EQ((*eps)[0], 1.0 / 255);
  EXPECT_DOUBLE_EQ((*eps)[1], 0.5);
  EXPECT_DOUBLE_EQ((*eps)[2], 8.0 / 255);
  EXPECT_TRUE(ParseEpsilons("--f", "")->empty());
  EXPECT_NE(ParseEpsilons("--f", "1/0").status().message().find("--f: '1/0'"),
            std::string::npos);
  EXPECT_FALSE(ParseEpsilons("--f", "a").ok());
  EXPECT_FALSE(ParseEpsilons("--f", "1/2/3").ok());
}

}  // namespace
}  // namespace vit_moe::eval

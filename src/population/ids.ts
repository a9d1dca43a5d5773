/** Row ids per table, counted in generation order so the same seed gives the same ids. */
export class IdSequences {
  #benefitDecision = 0;
  #benefitPayment = 0;
  #sicknessDecision = 0;
  #sicknessPayment = 0;
  #studentAidPeriod = 0;
  #jobSeekerRegistration = 0;
  #activitySupportPayment = 0;

  benefitDecision(): number {
    return ++this.#benefitDecision;
  }
  benefitPayment(): number {
    return ++this.#benefitPayment;
  }
  sicknessDecision(): number {
    return ++this.#sicknessDecision;
  }
  sicknessPayment(): number {
    return ++this.#sicknessPayment;
  }
  studentAidPeriod(): number {
    return ++this.#studentAidPeriod;
  }
  jobSeekerRegistration(): number {
    return ++this.#jobSeekerRegistration;
  }
  activitySupportPayment(): number {
    return ++this.#activitySupportPayment;
  }
}

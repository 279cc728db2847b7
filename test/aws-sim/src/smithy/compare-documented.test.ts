import { describe, expect, it } from "vitest";
import { compareDocumented } from "./compare-documented.ts";
import { loadModel } from "./smithy-model.ts";

const iam = loadModel("iam-2010-05-08");
const shape = "com.amazonaws.iam#ListGroupsResponse";
const documented = {
  Groups: [
    {
      Path: "/",
      GroupName: "Admins",
      CreateDate: "2016-12-15T21:40:08.121Z",
      GroupId: "AGPA1111111111EXAMPLE",
      Arn: "arn:aws:iam::123456789012:group/Admins",
    },
  ],
};
const actualGroup = {
  Path: "/",
  GroupName: "Admins",
  CreateDate: new Date("2016-12-15T21:40:08.121Z"),
  GroupId: "AGPA1111111111EXAMPLE",
  Arn: "arn:aws:iam::123456789012:group/Admins",
};

describe("compareDocumented", () => {
  it("accepts a matching output with extra items and members", () => {
    const other = { ...actualGroup, GroupName: "Other" };
    expect(
      compareDocumented(iam, shape, documented, { Groups: [other, actualGroup], IsTruncated: false }),
    ).toEqual([]);
  });

  it("reports differing values and dates, and honours ignores", () => {
    const wrong = {
      ...actualGroup,
      Arn: "arn:aws:iam::123456789012:group/x/Admins",
      CreateDate: new Date("2016-12-15T21:40:08Z"),
    };
    const problems = compareDocumented(iam, shape, documented, { Groups: [wrong] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/Groups\[\]\.CreateDate.*Groups\[\]\.Arn/);
    expect(
      compareDocumented(
        iam,
        shape,
        documented,
        { Groups: [wrong] },
        { ignore: ["Groups[].Arn", "Groups[].CreateDate"] },
      ),
    ).toEqual([]);
    expect(compareDocumented(iam, shape, documented, { Groups: [] })[0]).toMatch(/missing/);
  });
});

/** A small catalogue of AWS-managed policies the simulator knows (ARN → metadata). */
export interface AwsManagedPolicy {
  name: string;
  path: string;
  arn: string;
  id: string;
  description: string;
  document: string;
}

const defs: Array<[string, string, string, string]> = [
  [
    "AdministratorAccess",
    "/",
    "ANPAIWMBCKSKIEE64ZLYK",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
  ],
  [
    "PowerUserAccess",
    "/",
    "ANPAJYRXTHIB4FOVS3ZXS",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}',
  ],
  [
    "ReadOnlyAccess",
    "/",
    "ANPAILL3HVNFSB6DCOWYQ",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}',
  ],
  [
    "SecurityAudit",
    "/",
    "ANPAIX2T3QCXHR2OGGCTO",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}',
  ],
  [
    "ViewOnlyAccess",
    "/job-function/",
    "ANPAID22R6XPJATWOFDK6",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:List*"],"Resource":"*"}]}',
  ],
  [
    "Billing",
    "/job-function/",
    "ANPAIFTHXT6FFMIRT7ZEA",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aws-portal:*"],"Resource":"*"}]}',
  ],
  [
    "AmazonS3ReadOnlyAccess",
    "/",
    "ANPAIZTJ4DXE7G6AGAE6M",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}',
  ],
  [
    "AmazonEC2FullAccess",
    "/",
    "ANPAI3VAJF5ZCRZ7MCQE6",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}',
  ],
  [
    "IAMReadOnlyAccess",
    "/",
    "ANPAJKSO7NDY4T57MWDSQ",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}',
  ],
  [
    "AWSOrganizationsReadOnlyAccess",
    "/",
    "ANPAJY5RQATUV77PEPVOM",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:Describe*","organizations:List*"],"Resource":"*"}]}',
  ],
];

export const AWS_MANAGED_POLICIES: ReadonlyMap<string, AwsManagedPolicy> = new Map(
  defs.map(([name, path, id, document]) => {
    const arn = `arn:aws:iam::aws:policy${path}${name}`;
    return [arn, { name, path, arn, id, description: `AWS managed policy ${name}`, document }];
  }),
);
export const AWS_MANAGED_CREATE_DATE = "2015-02-06T18:39:46Z";
